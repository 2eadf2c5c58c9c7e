package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.Tensor;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * torchvision CNNs exported by {@code torch.onnx.export} at opset 13 (seeded random weights,
 * fixtures/onnx/make_torchvision.py, written under target/ at test time), converted by graft to
 * opsets 7, 9, 11, 13, 17, 18 and 21: each written model must match PyTorch's output in ONNX
 * Runtime within 1e-5 relative to the output's magnitude and pass the onnx checker (opsets up to
 * 17, the installed onnx's range), or be refused with a reason naming the node. The table of
 * results goes to target/torchvision-opsets.md.
 */
class TorchvisionOpsetTest {
    static final int[] OPSETS = {7, 9, 11, 13, 17, 18, 21};
    static final Path DIR = TestPaths.root().resolve("target/torchvision");

    /** Converts {@code model} (exported at input size {@code size}) at every opset; returns the table row. */
    static Map<Integer, String> convert(String model, int size, List<String> written, List<String> failed) {
        TestPaths.assumeExists(Python.PYTHON, "Debian python3");
        Python.run(TestPaths.fixtures().resolve("onnx/make_torchvision.py"), DIR.toString(), model + ":" + size);
        Path src = DIR.resolve(model + ".onnx");
        Tensor x = OnnxRoundTripTest.npy(DIR.resolve(model + "_input.npy"));
        Tensor torch = OnnxRoundTripTest.npy(DIR.resolve(model + "_torch_output.npy"));
        Graph g = OnnxImporter.read(src);
        Map<Integer, String> row = new LinkedHashMap<>();
        Path out = TestPaths.scratch("torchvision-" + model);
        for (int opset : OPSETS) {
            Path f = out.resolve(model + "_" + opset + ".onnx");
            OpsetWriteTest.Outcome o = new OpsetWriteTest.Outcome();
            OpsetWriteTest.writeAndLoad(g, src, f, opset, null, List.of(), List.of(), o, model + " @" + opset);
            if (!o.failed().isEmpty()) {
                failed.addAll(o.failed());
                row.put(opset, "FAILED");
            } else if (!o.refused().isEmpty()) {
                String r = o.refused().get(0);
                row.put(opset, "refused: " + r.substring(r.indexOf(": ") + 2));
            } else {
                Tensor y = OnnxRoundTripTest.run(f, Map.of("input", x)).get("logits");
                double err = OnnxRoundTripTest.relError(y, torch);
                row.put(opset, String.format("%.1e", err));
                written.add(f.toString());
                if (!(err < 1e-5)) {
                    failed.add(model + " @" + opset + ": relative error " + err);
                }
            }
        }
        return row;
    }

    static void check(List<String> models, int size, List<String> mustConvert) throws IOException {
        List<String> written = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        StringBuilder table = new StringBuilder();
        Map<String, Map<Integer, String>> rows = new LinkedHashMap<>();
        for (String m : models) {
            rows.put(m, convert(m, m.equals("inception_v3") ? 75 : size, written, failed));
        }
        List<String> checked = OpsetWriteTest.checker(written, TestPaths.scratch("torchvision-check"));
        for (Map.Entry<String, Map<Integer, String>> r : rows.entrySet()) {
            table.append("| ").append(r.getKey());
            r.getValue().values().forEach(v -> table.append(" | ").append(v));
            table.append(" |\n");
        }
        System.out.println(table);
        Path report = TestPaths.root().resolve("target/torchvision-opsets.md");
        Files.writeString(report, table.toString(), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        assertThat(failed).as(table.toString()).isEmpty();
        assertThat(checked).as(table.toString()).isEmpty();
        for (String m : mustConvert) {
            assertThat(rows.get(m).values()).as(m + ": " + rows.get(m)).noneMatch(v -> v.startsWith("refused"));
        }
    }

    @Test
    void resnetMobilenetSqueezenetConvertToEveryOpset() throws IOException {
        List<String> small = List.of("resnet18", "mobilenet_v2", "squeezenet1_1");
        check(small, 64, small);
    }

    /** #25.12: ReduceMean (x.mean([2, 3])) must take its axes as an input from opset 18 on. */
    @Test
    void shufflenetWritesReduceMeanAxesAsAnInputFromOpset18() throws IOException {
        List<String> written = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        Map<Integer, String> row = convert("shufflenet_v2_x1_0", 64, written, failed);
        assertThat(failed).as(row.toString()).isEmpty();
        assertThat(OpsetWriteTest.checker(written, TestPaths.scratch("shufflenet-check"))).isEmpty();
        assertThat(row.get(18)).as(row.toString()).doesNotStartWith("refused");
        assertThat(row.get(21)).as(row.toString()).doesNotStartWith("refused");
        Files.writeString(TestPaths.root().resolve("target/torchvision-opsets.md"), "| shufflenet_v2_x1_0 | " + String.join(" | ", row.values()) + " |\n",
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    /** #24.1: torch's nearest x2 F.interpolate (Resize, asymmetric, floor) is Upsample below opset 10, Resize-10 at 10. */
    @Test
    void nearestResizeIsWrittenAsUpsampleBelowOpset10() throws IOException {
        check(List.of("upsample_cnn"), 16, List.of("upsample_cnn"));
    }

    @Test
    @Tag("slow")
    void densenetAndInceptionConvertToEveryOpset() throws IOException {
        check(List.of("densenet121", "inception_v3"), 64, List.of("densenet121", "inception_v3"));
    }
}
