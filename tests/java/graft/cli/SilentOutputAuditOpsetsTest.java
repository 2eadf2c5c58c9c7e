package graft.cli;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The silent-output audit's convert column at every opset graft writes, 7 to 21, for every model
 * of {@code fixtures/} and {@code ../shared/corpus} (issue #25: "every opset 7-21 written for
 * every fixture"): exit 0 means the file loads in ONNX Runtime, passes
 * {@code onnx.checker.check_model(full_check=True)} and the schema check at its opset (onnx 1.12
 * knows opsets up to 17; 18..21 rest on ONNX Runtime's own checks when it loads the file),
 * {@code graft validate} passes, and ONNX Runtime on the written file agrees with the source's
 * own format's oracle within 1e-4; a refusal is exit 2 or 3 in one line, with no file left.
 * The matrix is written to {@code target/audit/matrix-opsets.md}.
 */
// slow: 65 sources x 15 opsets, about 1,000 conversions, each validated and run twice
@Tag("slow")
class SilentOutputAuditOpsetsTest extends SilentOutputAuditTest {
    static final List<Target> OPSETS = opsets();

    static List<Target> opsets() {
        List<Target> r = new ArrayList<>();
        for (int v = 7; v <= 21; v++) {
            r.add(new Target("onnx@" + v, ".onnx", List.of("--opset", String.valueOf(v))));
        }
        return List.copyOf(r);
    }

    @Override
    List<Target> targets() {
        return OPSETS;
    }

    @Override
    List<String> commands() {
        return List.of("convert");
    }

    @Override
    boolean features() {
        return false;
    }

    @Override
    String reportName() {
        return "matrix-opsets.md";
    }
}
