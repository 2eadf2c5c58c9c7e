package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * VGG16 in the keras.applications topology and layer names, written in Keras 2 layout by
 * fixtures/keras/make_vgg16_keras.py, converted to ONNX and compared with TensorFlow.js within
 * 1e-5 relative. With top, this proves the Flatten row permutation (7x7xC into fc1); without
 * top (input (None, None, 3)) the ONNX model keeps symbolic sizes and runs at 160 and 224.
 * The default suite uses a reduced-width VGG16 (channels / 16, fc 64); the full-size one is slow.
 */
class KerasVgg16Test {
    static final double TOLERANCE = 1e-5;

    static synchronized Path model(String name, String... args) {
        Path dir = TestPaths.root().resolve("target/models/keras-vgg16");
        Path out = dir.resolve(name);
        if (!Files.exists(out)) {
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            List<String> a = new ArrayList<>(List.of(out.toString()));
            a.addAll(List.of(args));
            Python.run(TestPaths.fixtures().resolve("keras/make_vgg16_keras.py"), a.toArray(String[]::new));
        }
        return out;
    }

    /** Converts with graft convert, runs ONNX Runtime and TensorFlow.js on the same NHWC inputs; returns the worst relative error. */
    static double compare(Path h5, String tag, List<long[]> shapes) {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-vgg16-" + tag);
        Path onnx = scratch.resolve(tag + ".onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            Tensor x = Tensor.random(graft.ir.DataType.FLOAT, shapes.get(i), 7 + i);
            inputs.add(x);
            jobs.add(new TfjsOracle.Job(h5, null, List.of(x)));
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> ref = TfjsOracle.predict(jobs, scratch.resolve("tfjs"), errors);
        double worst = 0;
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            String in = ort.inputs().keySet().iterator().next();
            for (int i = 0; i < shapes.size(); i++) {
                assertThat(errors.get(i)).isNull();
                Tensor got = ort.run(java.util.Map.of(in, inputs.get(i))).values().iterator().next();
                Tensor want = ref.get(i).get(0);
                assertThat(got.shape()).isEqualTo(want.shape());
                double e = TfjsOracle.relError(got, want);
                System.out.printf("%s at %s: %.2e relative to TensorFlow.js%n", tag, java.util.Arrays.toString(shapes.get(i)), e);
                worst = Math.max(worst, e);
            }
        }
        return worst;
    }

    @Test
    void reducedWidthVgg16WithTopMatchesTensorFlowJs() {
        Path h5 = model("vgg16_small.h5", "--width-div", "16", "--fc", "64", "--classes", "10");
        assertThat(compare(h5, "small-top", List.of(new long[] {2, 224, 224, 3}))).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void reducedWidthVgg16NoTopKeepsSymbolicSizesAndRunsAt160And224() {
        Path h5 = model("vgg16_small_notop.h5", "--width-div", "16", "--no-top");
        Graph g = new KerasFormat().read(h5, graft.io.Options.none());
        Shape in = g.type(g.inputs().get(0).name()).shape();
        assertThat(in.dim(1).isFixed()).isFalse();
        assertThat(in.dim(2).isFixed()).isFalse();
        assertThat(g.outputs().get(0).name()).isEqualTo("block5_pool");
        assertThat(g.layers()).contains("block1_conv1", "block5_conv3", "block5_pool");
        assertThat(compare(h5, "small-notop", List.of(new long[] {1, 160, 160, 3}, new long[] {1, 224, 224, 3})))
                .isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    @Tag("slow")
    void fullVgg16WithTopMatchesTensorFlowJs() {
        Path h5 = model("vgg16.h5");
        assertThat(compare(h5, "full-top", List.of(new long[] {1, 224, 224, 3}))).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    @Tag("slow")
    void fullVgg16NoTopRunsAt160And224() {
        Path h5 = model("vgg16_notop.h5", "--no-top");
        assertThat(compare(h5, "full-notop", List.of(new long[] {1, 160, 160, 3}, new long[] {1, 224, 224, 3})))
                .isLessThanOrEqualTo(TOLERANCE);
    }
}
