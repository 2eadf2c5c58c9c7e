package graft.cli;

import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The silent-output audit's {@code finetune --save-as} columns (issue #14: every command), for
 * every model of {@code fixtures/} and {@code ../shared/corpus} whose head has at most
 * {@link SilentOutputAuditTest#MAX_CLASSES} classes: one seeded epoch on one seeded sample per
 * class, the first layer with weights frozen, saved as ONNX, Keras {@code .h5} and Caffe. The
 * frozen layer reads back bit-identical, and the saved file run by its format's oracle (ONNX
 * Runtime, TensorFlow.js, OpenCV) equals the source as ONNX with the run's checkpoint tensors put
 * in by the onnx package, run in ONNX Runtime, within 1e-4. {@code convert -> onnx} runs too: for
 * a Keras or Caffe source its checked output is that ONNX form. The matrix is written to
 * {@code target/audit/matrix-finetune.md}.
 */
// slow: three training runs per fine-tunable source
@Tag("slow")
class SilentOutputAuditFinetuneTest extends SilentOutputAuditTest {
    @Override
    List<Target> targets() {
        return List.of(TARGETS.get(0));
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
    boolean finetune() {
        return true;
    }

    @Override
    String reportName() {
        return "matrix-finetune.md";
    }
}
