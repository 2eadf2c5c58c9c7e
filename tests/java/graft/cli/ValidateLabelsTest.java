package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.ir.DataType;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * {@code validate A B --labels Y.npy} (issue #17): both models' top-1 accuracy on the fed samples.
 * The oracle is PyTorch: the bundled model's saved PyTorch outputs give each sample's class;
 * the labels are those classes with the first {@code wrong} changed, so the expected count is
 * known without graft: N - wrong for the original, and the same for its FP16 conversion when
 * its top-1 agrees (the report's top-1 agreement says so). Bad labels: one line, exit 2.
 */
class ValidateLabelsTest {
    @Test
    void accuraciesAgainstLabelsFromPyTorchsOwnOutputs() throws Exception {
        Path dir = TestPaths.scratch("validate-labels");
        Path model = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Npy.Array torch = Npy.read(TestPaths.fixtures().resolve("onnx/small_vgg_torch_output.npy"));
        int n = (int) torch.shape()[0];
        int k = (int) torch.shape()[1];
        float[] t = torch.toFloats();
        int wrong = Math.min(2, n - 1);
        ByteBuffer y = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int j = 1; j < k; j++) {
                best = t[i * k + j] > t[i * k + best] ? j : best;
            }
            y.putLong(i < wrong ? (best + 1) % k : best);
        }
        y.flip();
        Path labels = dir.resolve("y.npy");
        Npy.write(labels, DataType.INT64, new long[] {n}, y, true);
        Path half = dir.resolve("half.onnx");
        assertThat(Cli.run("convert", "--force", "--fp16", model.toString(), half.toString()).code()).isZero();
        Path input = TestPaths.fixtures().resolve("onnx/small_vgg_input.npy");
        String inputName = graft.cli.ModelLoader.load(model, null, graft.io.Options.none()).inputs().get(0).name();

        Cli.Result r = Cli.run("validate", model.toString(), half.toString(), "--input", inputName + "=" + input, "--labels", labels.toString(), "--json");
        assertThat(r.code()).as(r.err()).isIn(0, 1);
        JsonNode j = new ObjectMapper().readTree(r.out());
        JsonNode acc = j.path("accuracy");
        assertThat(acc.path("samples").asInt()).isEqualTo(n);
        assertThat(acc.path("reference_correct").asInt()).isEqualTo(n - wrong);
        if (j.path("outputs").path(0).path("top1").asDouble() == 1.0) {
            assertThat(acc.path("candidate_correct").asInt()).isEqualTo(n - wrong);
        }
        Cli.Result table = Cli.run("validate", model.toString(), half.toString(), "--input", inputName + "=" + input, "--labels", labels.toString());
        assertThat(table.out()).contains("accuracy on " + n + " labelled samples").contains("reference " + String.format(java.util.Locale.ROOT, "%.2f%%", 100.0 * (n - wrong) / n));

        // labels that do not fit: floats, too few, a class out of range
        Path floats = dir.resolve("f.npy");
        ByteBuffer fb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        Npy.write(floats, DataType.FLOAT, new long[] {n}, fb, true);
        Path few = dir.resolve("few.npy");
        Npy.write(few, DataType.INT64, new long[] {1}, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN), true);
        Path big = dir.resolve("big.npy");
        ByteBuffer bb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(0, 1000);
        Npy.write(big, DataType.INT64, new long[] {n}, bb, true);
        for (Path bad : new Path[] {floats, few, big}) {
            Cli.Result b = Cli.run("validate", model.toString(), half.toString(), "--input", inputName + "=" + input, "--labels", bad.toString());
            assertThat(b.code()).as(bad + ": " + b.err()).isEqualTo(2);
            assertThat(b.err().strip().lines().count()).as(b.err()).isEqualTo(1);
            assertThat(b.err()).contains(bad.toString());
        }
        assertThat(Files.exists(half)).isTrue();
    }
}
