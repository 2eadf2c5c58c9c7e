package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.caffe.CaffeFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.onnx.OnnxImporter;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Found by the silent-output audit's finetune column: the data loader relaxes the model's input
 * for training (a fixed batch becomes N), and {@code finetune --save-as} wrote that relaxed input,
 * so LeNet's deploy net (Input 64x1x28x28) came back from a one-epoch fine-tune as a Caffe net
 * taking 1x1x28x28 (ONNX: N x1x28x28). The saved model keeps the input its source declared.
 */
class FinetuneKeepsInputShapeTest {
    @Test
    void lenetFineTunedKeepsItsFixedBatchOf64InEveryFormat() throws IOException {
        Path lenet = TestPaths.corpus().resolve("caffe/mnist/lenet.prototxt");
        Path weights = TestPaths.corpus().resolve("caffe/mnist/lenet_iter_10000.caffemodel");
        TestPaths.assumeExists(weights, "LeNet caffemodel");
        Path dir = TestPaths.scratch("finetune-keeps-input");
        // ten seeded samples, one per class, as the model's input itself (.npy is never preprocessed)
        java.util.Random r = new java.util.Random(3);
        float[] x = new float[10 * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        ByteBuffer xb = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        xb.asFloatBuffer().put(x);
        graft.io.Npy.write(dir.resolve("x.npy"), graft.ir.DataType.FLOAT, new long[] {10, 1, 28, 28}, xb, true);
        ByteBuffer yb = ByteBuffer.allocate(10 * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long k = 0; k < 10; k++) {
            yb.putLong(k);
        }
        graft.io.Npy.write(dir.resolve("y.npy"), graft.ir.DataType.INT64, new long[] {10}, yb.flip(), true);
        for (String name : new String[] {"model.prototxt", "model.onnx"}) {
            Path run = dir.resolve("run_" + name.replace('.', '_'));
            Cli.Result c = Cli.run("finetune", lenet.toString(), "--weights", weights.toString(), dir.resolve("x.npy").toString(),
                    "--labels", dir.resolve("y.npy").toString(), "--epochs", "1", "--batch-size", "5", "--val-fraction", "0",
                    "--seed", "3", "-o", run.toString(), "--save-as", name);
            assertThat(c.code()).as(c.out() + c.err()).isZero();
            Path saved = run.resolve(name);
            Graph g = name.endsWith(".onnx") ? OnnxImporter.read(saved)
                    : new CaffeFormat().read(saved, Options.none().set("weights", run.resolve("model.caffemodel")));
            assertThat(g.type(g.inputs().get(0).name()).shape().toString()).as(name).isEqualTo(
                    new CaffeFormat().read(lenet, Options.none().set("weights", weights)).type("data").shape().toString());
        }
        assertThat(Files.readString(dir.resolve("run_model_prototxt/model.prototxt"))).contains("dim: 64");
    }
}
