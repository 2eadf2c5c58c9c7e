package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A Caffe net read without a caffemodel has only its fillers (zeros for a deploy net): every
 * command that computes with or writes the weights refuses it in one line (exit 3) unless
 * {@code --init fillers} asks for them on purpose; inspect describes it and says so. A layer a
 * caffemodel does not cover (a renamed one) still starts from its filler, with a notice line.
 */
class CaffeWeightsRequiredTest {
    private static final Path CAFFE = TestPaths.corpus().resolve("caffe");
    private static final Path LENET = CAFFE.resolve("mnist/lenet.prototxt");
    private static final Path LENET_W = CAFFE.resolve("mnist/lenet_iter_10000.caffemodel");

    private static void refused(Cli.Result r, Path out) {
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(3);
        String e = r.err().strip();
        assertThat(e).doesNotContain("\n").doesNotContain("Exception").contains("no weights").contains("--weights")
                .contains("--init fillers");
        if (out != null) {
            assertThat(out).doesNotExist();
        }
    }

    @Test
    void prototxtWithoutWeightsIsRefusedByEveryCommandThatUsesThem() throws Exception {
        Path dir = TestPaths.scratch("caffe-no-weights");
        Path onnx = dir.resolve("x.onnx");
        refused(Cli.run("convert", CAFFE.resolve("bvlc_reference_caffenet/deploy.prototxt").toString(), onnx.toString()), onnx);
        Path s = dir.resolve("s.onnx");
        refused(Cli.run("surgery", LENET.toString(), "--edit", "freeze ..pool2", "-o", s.toString()), s);
        refused(Cli.run("validate", LENET.toString(), LENET.toString()), null);
        Path data = dir.resolve("data");
        Files.createDirectories(data.resolve("a"));
        Files.createDirectories(data.resolve("b"));
        Path run = dir.resolve("run");
        refused(Cli.run("finetune", LENET.toString(), data.toString(), "-o", run.toString()), null);
        assertThat(run.resolve("model.onnx")).doesNotExist();
        refused(Cli.run("run", LENET.toString()), null);

        Cli.Result i = Cli.run("inspect", LENET.toString());
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("weights:").contains("none (filler-initialised)");

        Cli.Result on = Cli.run("convert", LENET.toString(), onnx.toString(), "--init", "fillers");
        assertThat(on.code()).as(on.err()).isZero();
        assertThat(onnx).exists();
        // The file says where its weights came from; reading it back is not refused (its weights are its own now).
        Cli.Result back = Cli.run("inspect", onnx.toString());
        assertThat(back.out()).contains("none (filler-initialised)");
        Path again = dir.resolve("again.onnx");
        assertThat(Cli.run("convert", onnx.toString(), again.toString()).code()).isZero();

        Cli.Result bad = Cli.run("convert", LENET.toString(), dir.resolve("y.onnx").toString(), "--init", "zeros");
        assertThat(bad.code()).isEqualTo(2);
    }

    @Test
    void caffemodelThatMatchesNoLayerIsNoWeightsEither() throws Exception {
        Path dir = TestPaths.scratch("caffe-no-match");
        Path net = dir.resolve("renamed.prototxt");
        String text = Files.readString(LENET);
        for (String l : new String[] {"conv1", "conv2", "ip1", "ip2"}) {
            text = text.replace("name: \"" + l + "\"", "name: \"" + l + "_x\"");
        }
        Files.writeString(net, text);
        Path out = dir.resolve("x.onnx");
        Cli.Result r = Cli.run("convert", net.toString(), "--weights", LENET_W.toString(), out.toString());
        refused(r, out);
        assertThat(r.err()).contains("holds blobs for none of the net's layers");
    }

    @Test
    void renamedLayerInANetWithWeightsStartsFromItsFillerWithOneNotice() throws Exception {
        Path dir = TestPaths.scratch("caffe-renamed-layer");
        Path net = dir.resolve("lenet_new_head.prototxt");
        Files.writeString(net, Files.readString(LENET).replace("name: \"ip2\"", "name: \"ip2_new\""));
        Cli.Result i = Cli.run("inspect", net.toString(), "--weights", LENET_W.toString());
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.err().strip()).doesNotContain("\n").contains("notice").contains("ip2_new").doesNotContain("conv1");
        assertThat(i.out()).doesNotContain("none (filler-initialised)");
        Path out = dir.resolve("x.onnx");
        Cli.Result c = Cli.run("convert", net.toString(), "--weights", LENET_W.toString(), out.toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.err().strip()).doesNotContain("\n").contains("notice").contains("ip2_new");
    }
}
