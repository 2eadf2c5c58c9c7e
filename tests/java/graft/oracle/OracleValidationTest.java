package graft.oracle;

import static org.assertj.core.api.Assertions.assertThat;

import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue #22: validation against the source framework. With graft's Keras and Caffe importers
 * made to apply a deliberately wrong Flatten rule (test switch graft.test.breakFlatten),
 * graft-vs-graft validation passes (the circular proof) while DL4J's and OpenCV's own readings
 * of the same files catch the bug; without the switch {@code convert --verify} passes. Also:
 * an oracle that cannot read a file (one line, exit 3, or auto's fallback with a warning), and
 * an oracle that crashes (SIGSEGV) or hangs, contained in its child JVM (one line, exit 3).
 */
class OracleValidationTest {
    static final String BREAK = "graft.test.breakFlatten";

    /** A VGG16-topology Keras file, reduced width (224x224x3 input, Flatten over 7x7x32, then Dense 64, 64, 10). */
    static synchronized Path vgg16Small() {
        Path out = TestPaths.root().resolve("target/models/oracle/vgg16_small.h5");
        if (!Files.exists(out)) {
            try {
                Files.createDirectories(out.getParent());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            Python.run(TestPaths.fixtures().resolve("keras/make_vgg16_keras.py"), out.toString(), "--width-div", "16", "--fc", "64",
                    "--classes", "10");
        }
        return out;
    }

    static Cli.Result broken(String... args) {
        System.setProperty(BREAK, "true");
        try {
            return Cli.run(args);
        } finally {
            System.clearProperty(BREAK);
        }
    }

    @Test
    void kerasFlattenBugPassesGraftValidationButNotDl4j() throws Exception {
        Path h5 = vgg16Small();
        Path dir = TestPaths.scratch("oracle-keras-break");
        Path good = dir.resolve("good.onnx");
        Cli.Result ok = Cli.run("convert", h5.toString(), good.toString(), "--verify");
        System.out.println(ok.out());
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("oracle: dl4j (independent").contains("PASS");

        Path bad = dir.resolve("bad.onnx");
        Cli.Result conv = broken("convert", h5.toString(), bad.toString());
        assertThat(conv.code()).as(conv.err()).isZero();
        Cli.Result circular = broken("validate", h5.toString(), bad.toString(), "--oracle", "graft");
        assertThat(circular.code()).as("graft's own reading agrees with itself: " + circular.out()).isZero();
        assertThat(circular.out()).contains("NOT independent");
        Cli.Result caught = broken("validate", h5.toString(), bad.toString(), "--oracle", "dl4j");
        System.out.println(caught.out());
        assertThat(caught.code()).as(caught.out() + caught.err()).isEqualTo(1);
        assertThat(caught.out()).contains("DL4J").contains("FAIL");
        // --per-layer with the independent oracle: DL4J's feedForward activations against the converted file's layers.
        Cli.Result layers = broken("validate", h5.toString(), bad.toString(), "--oracle", "dl4j", "--per-layer");
        System.out.println(layers.out() + layers.err());
        assertThat(layers.code()).as(layers.out() + layers.err()).isEqualTo(1);
        assertThat(layers.out()).contains("block5_pool ").contains("first layer beyond tolerance: fc1\n");
        // Without --oracle, a conversion (another format, no edits) is checked against the independent oracle by default.
        Cli.Result byDefault = broken("validate", h5.toString(), bad.toString());
        assertThat(byDefault.code()).as(byDefault.out() + byDefault.err()).isEqualTo(1);
        assertThat(byDefault.out()).startsWith("oracle: dl4j (independent");
        Cli.Result sameFormat = Cli.run("validate", good.toString(), bad.toString());
        assertThat(sameFormat.out()).as("two files of one format: graft against graft, as before").startsWith("reference: ");
        Cli.Result goodLayers = Cli.run("validate", h5.toString(), good.toString(), "--oracle", "dl4j", "--per-layer");
        assertThat(goodLayers.code()).as(goodLayers.out() + goodLayers.err()).isZero();
        assertThat(goodLayers.out()).contains("every compared layer is within tolerance").contains("block1_conv1 ");
        Cli.Result verify = broken("convert", h5.toString(), dir.resolve("bad2.onnx").toString(), "--verify");
        assertThat(verify.code()).as(verify.out() + verify.err()).isEqualTo(1);
        assertThat(dir.resolve("bad2.onnx")).as("the written file is kept").exists();
    }

    @Test
    void caffeFlattenBugPassesGraftValidationButNotOpenCv() throws Exception {
        Path dir = TestPaths.scratch("oracle-caffe-break");
        // LeNet as Caffe wrote it (conv, pool, then InnerProduct over a 50x4x4 blob: a Flatten + Dense).
        Path mnist = TestPaths.corpus().resolve("caffe/mnist");
        TestPaths.assumeExists(mnist, "the shared Caffe corpus");
        List<Path[]> nets = List.<Path[]>of(new Path[] {mnist.resolve("lenet.prototxt"), mnist.resolve("lenet_iter_10000.caffemodel")});
        for (Path[] n : nets) {
            String stem = n[0].getFileName().toString().replace(".prototxt", "");
            Cli.Result ok = Cli.run("convert", n[0].toString(), "--weights", n[1].toString(), dir.resolve(stem + "_good.onnx").toString(), "--verify");
            System.out.println(ok.out());
            assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
            assertThat(ok.out()).contains("oracle: opencv (independent");
            Path bad = dir.resolve(stem + "_bad.onnx");
            Cli.Result conv = broken("convert", n[0].toString(), "--weights", n[1].toString(), bad.toString());
            assertThat(conv.code()).as(conv.err()).isZero();
            Cli.Result circular = broken("validate", n[0].toString(), "--weights", n[1].toString(), bad.toString(), "--oracle", "graft");
            assertThat(circular.code()).as(stem + ": graft's own reading agrees with itself: " + circular.out()).isZero();
            Cli.Result caught = broken("validate", n[0].toString(), "--weights", n[1].toString(), bad.toString(), "--oracle", "opencv");
            System.out.println(caught.out());
            assertThat(caught.code()).as(stem + ": " + caught.out() + caught.err()).isEqualTo(1);
            assertThat(caught.out()).contains("OpenCV").contains("FAIL");
        }
    }

    /**
     * A VGG16-topology Caffe deploy net, reduced width: the corpus's vgg16/deploy.prototxt with every num_output divided by 16
     * (fc6/fc7 64, fc8 10), batch 1, no final Softmax (logits are compared, not saturated probabilities), and MSRA/uniform fillers
     * from which graft writes a caffemodel once. Returns {prototxt, caffemodel}.
     */
    static synchronized Path[] caffeVgg16Small() throws Exception {
        Path dir = TestPaths.root().resolve("target/models/oracle");
        Path proto = dir.resolve("vgg16_small.prototxt");
        Path weights = dir.resolve("vgg16_small_weights.caffemodel");
        if (!Files.exists(weights)) {
            Files.createDirectories(dir);
            String deploy = Files.readString(TestPaths.corpus().resolve("caffe/vgg16/deploy.prototxt"));
            deploy = deploy.substring(0, deploy.lastIndexOf("layer {", deploy.indexOf("name: \"prob\"")));
            deploy = deploy.replaceFirst("dim: 10\\b", "dim: 1");
            StringBuilder b = new StringBuilder();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("num_output: (\\d+)").matcher(deploy);
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                long k = n == 1000 ? 10 : n == 4096 ? 64 : n / 16;
                m.appendReplacement(b, "num_output: " + k + "\n    weight_filler { type: \"msra\" }\n"
                        + "    bias_filler { type: \"uniform\" min: -0.1 max: 0.1 }");
            }
            m.appendTail(b);
            Files.writeString(proto, b.toString());
            Path written = dir.resolve("vgg16_small_weights.prototxt");
            Cli.Result r = Cli.run("convert", proto.toString(), "--init", "fillers", written.toString());
            assertThat(r.code()).as(r.err()).isZero();
        }
        return new Path[] {proto, weights};
    }

    @Test
    void caffeVgg16FlattenBugPassesGraftValidationButNotOpenCvAndPerLayerNamesFc6() throws Exception {
        TestPaths.assumeExists(TestPaths.corpus().resolve("caffe/vgg16"), "the shared Caffe corpus");
        Path[] net = caffeVgg16Small();
        String w = net[1].toString();
        Path dir = TestPaths.scratch("oracle-caffe-vgg16-break");
        Path good = dir.resolve("good.onnx");
        Cli.Result ok = Cli.run("convert", net[0].toString(), "--weights", w, good.toString(), "--verify");
        System.out.println(ok.out());
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("oracle: opencv (independent");
        Cli.Result goodLayers = Cli.run("validate", net[0].toString(), "--weights", w, good.toString(), "--oracle", "opencv", "--per-layer");
        System.out.println(goodLayers.out() + goodLayers.err());
        assertThat(goodLayers.code()).as(goodLayers.out() + goodLayers.err()).isZero();
        assertThat(goodLayers.out()).contains("every compared layer is within tolerance").contains("conv1_1 ").contains("fc6 ");

        Path bad = dir.resolve("bad.onnx");
        Cli.Result conv = broken("convert", net[0].toString(), "--weights", w, bad.toString());
        assertThat(conv.code()).as(conv.err()).isZero();
        Cli.Result circular = broken("validate", net[0].toString(), "--weights", w, bad.toString(), "--oracle", "graft");
        assertThat(circular.code()).as("graft's own reading agrees with itself: " + circular.out()).isZero();
        assertThat(circular.out()).contains("NOT independent");
        Cli.Result caught = broken("validate", net[0].toString(), "--weights", w, bad.toString(), "--oracle", "opencv", "--per-layer");
        System.out.println(caught.out() + caught.err());
        assertThat(caught.code()).as(caught.out() + caught.err()).isEqualTo(1);
        assertThat(caught.out()).contains("OpenCV").contains("FAIL").contains("first layer beyond tolerance: fc6");
    }

    @Test
    void anOracleThatCannotReadTheFileIsOneLineExit3OrAutoFallsBackWithAWarning() {
        Path lc = TestPaths.corpus().resolve("keras/tfkeras/cnn2d_33.h5");
        TestPaths.assumeExists(lc, "the shared Keras corpus");
        Cli.Result explicit = Cli.run("validate", lc.toString(), "--oracle", "dl4j");
        assertThat(explicit.code()).isEqualTo(3);
        assertThat(explicit.err().strip().lines().count()).as(explicit.err()).isEqualTo(1);
        assertThat(explicit.err()).contains("dl4j").contains("LocallyConnected2D");
        Cli.Result auto = Cli.run("validate", lc.toString(), "--oracle", "auto");
        assertThat(auto.code()).as(auto.err()).isZero();
        assertThat(auto.err()).contains("LocallyConnected2D").contains("NOT independent");
        assertThat(auto.out()).startsWith("oracle: graft (NOT independent");
        Path converted = TestPaths.scratch("oracle-lc").resolve("lc.onnx");
        assertThat(Cli.run("convert", lc.toString(), converted.toString()).code()).isZero();
        Cli.Result byDefault = Cli.run("validate", lc.toString(), converted.toString());
        assertThat(byDefault.code()).as(byDefault.err()).isZero();
        assertThat(byDefault.err()).contains("warning").contains("NOT independent");
        assertThat(byDefault.out()).startsWith("oracle: graft (NOT independent");

        Path mnist = TestPaths.corpus().resolve("caffe/mnist");
        Cli.Result trainVal = Cli.run("validate", mnist.resolve("lenet_train_test.prototxt").toString(), "--weights",
                mnist.resolve("lenet_iter_10000.caffemodel").toString(), "--data-shape", "1x28x28", "--oracle", "opencv");
        assertThat(trainVal.code()).isEqualTo(3);
        assertThat(trainVal.err()).contains("Duplicate blobs");
        Cli.Result wrongKind = Cli.run("validate", lc.toString(), "--oracle", "opencv");
        assertThat(wrongKind.code()).isEqualTo(3);
    }

    @Test
    void onnxSourceIsRunUntouchedInOnnxRuntime() {
        Path onnx = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path dir = TestPaths.scratch("oracle-onnx");
        Cli.Result r = Cli.run("convert", onnx.toString(), dir.resolve("small_vgg.h5").toString(), "--verify");
        System.out.println(r.out());
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("oracle: ort (independent: ONNX Runtime (the original file, untouched)");
        // ONNX Runtime on the untouched file gives outputs only: --per-layer says so in one line and compares the outputs.
        Cli.Result ortLayers = Cli.run("validate", onnx.toString(), dir.resolve("small_vgg.h5").toString(), "--oracle", "ort", "--per-layer");
        assertThat(ortLayers.code()).as(ortLayers.out() + ortLayers.err()).isZero();
        assertThat(ortLayers.err().strip().lines().count()).as(ortLayers.err()).isEqualTo(1);
        assertThat(ortLayers.err()).contains("oracle ort gives the outputs only");
        Cli.Result cv = Cli.run("validate", onnx.toString(), dir.resolve("small_vgg.h5").toString(), "--oracle", "opencv");
        System.out.println(cv.out());
        assertThat(cv.code()).as(cv.out() + cv.err()).isZero();
    }

    @Test
    void withoutTheOraclePartANamedOracleSaysHowToBuildItAndAutoFallsBack() {
        Path mnist = TestPaths.corpus().resolve("caffe/mnist");
        TestPaths.assumeExists(mnist, "the shared Caffe corpus");
        // A build without the oracle part: the lookup pointed at an empty folder (no graft-*-oracles.jar, no oracle-lib/).
        Path empty = TestPaths.scratch("oracle-not-built");
        String[] src = {mnist.resolve("lenet.prototxt").toString(), "--weights", mnist.resolve("lenet_iter_10000.caffemodel").toString()};
        System.setProperty("graft.oracles.dir", empty.toString());
        try {
            for (String o : List.of("opencv", "dl4j")) {
                Path model = o.equals("dl4j") ? vgg16Small() : null;
                Cli.Result r = model == null ? Cli.run("validate", src[0], src[1], src[2], "--oracle", o)
                        : Cli.run("validate", model.toString(), "--oracle", o);
                System.out.println(o + ": " + r.err());
                assertThat(r.code()).as(r.err()).isEqualTo(3);
                assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
                assertThat(r.err()).contains("the oracle part is not built").contains("mvn -DskipTests package")
                        .contains("-Dgraft.oracles.skip=true").doesNotContain("Exception");
            }
            Cli.Result auto = Cli.run("validate", src[0], src[1], src[2], "--oracle", "auto");
            assertThat(auto.code()).as(auto.err()).isZero();
            assertThat(auto.err()).contains("not built").contains("NOT independent");
            assertThat(auto.out()).startsWith("oracle: graft (NOT independent");
        } finally {
            System.clearProperty("graft.oracles.dir");
        }
    }

    @Test
    void aRealOracleThatCannotFinishInTimeIsStopped() {
        // No fault injected: DL4J's child JVM cannot start, import and run VGG16 in one second, so --oracle-timeout 1 stops it.
        Path h5 = vgg16Small();
        long t0 = System.nanoTime();
        Cli.Result r = Cli.run("validate", h5.toString(), "--oracle", "dl4j", "--oracle-timeout", "1");
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.println("timeout 1 s (" + s + " s): " + r.err());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("did not finish within 1 s").contains("--oracle-timeout");
        assertThat(s).isLessThan(30);
        assertThat(ProcessHandle.current().descendants().filter(p -> p.info().commandLine().orElse("").contains("graft.oracle.OracleMain")))
                .as("the stopped child JVM is gone").isEmpty();
    }

    @Test
    void aCrashingOrHangingOracleIsContained() {
        Path mnist = TestPaths.corpus().resolve("caffe/mnist");
        TestPaths.assumeExists(mnist, "the shared Caffe corpus");
        String[] args = {"validate", mnist.resolve("lenet.prototxt").toString(), "--weights", mnist.resolve("lenet_iter_10000.caffemodel").toString(),
            "--oracle", "opencv", "--oracle-timeout", "5"};
        for (String fault : List.of("crash", "hang")) {
            System.setProperty("graft.test.oracleFault", fault);
            Cli.Result r;
            long t0 = System.nanoTime();
            try {
                r = Cli.run(args);
            } finally {
                System.clearProperty("graft.test.oracleFault");
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.println(fault + " (" + s + " s): " + r.err());
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).contains(fault.equals("crash") ? "crashed" : "did not finish within 5 s");
            assertThat(s).isLessThan(60);
        }
    }
}
