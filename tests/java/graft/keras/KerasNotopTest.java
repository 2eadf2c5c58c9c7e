package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The six keras.applications feature extractors (include_top=False, input (None, None, 3),
 * pooling=None), width-reduced twins written by fixtures/keras/make_applications.py from specs
 * real Keras 3.15.1 produced ({@code spec --notop}). {@code inspect} shows Keras's counts on the
 * file as it is, with its free height and width; {@code set-input-shape 160x160x3} (Keras order)
 * fixes them, and the fixed model in ONNX Runtime equals TensorFlow.js 4.22 on the same .h5 fed a
 * 160x160 input, within 1e-5 relative (max |a - b| / max |ref|). EfficientNet: numpy computes the
 * Rescaling + Normalization stem that TensorFlow.js lacks, as in {@link KerasApplicationsTest}.
 * MobileNetV2 (its output a ReLU6 after 52 convolutions) follows KerasApplicationsTest's
 * float64 rule: graft within 1e-5 of a float64 evaluation, or at most twice as far from it as
 * TensorFlow.js is.
 */
class KerasNotopTest {
    static final double TOLERANCE = KerasApplicationsTest.TOLERANCE;

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void notopTwinAt160x160MatchesTensorFlowJs(String name) {
        check(name, name + "_notop_small", 160, 2);
    }

    /**
     * Slow suite: the full-size include_top=False models (NAME_notop.json, specs real Keras 3.15.1
     * wrote with {@code spec --notop --full}; the .h5 written once into target/, seed 0), fixed at
     * 224x224 (299x299 for InceptionV3 and Xception), batch 1, with the same checks.
     */
    @Tag("slow")
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void fullSizeNotopMatchesTensorFlowJs(String name) {
        long t0 = System.nanoTime();
        check(name, name + "_notop", name.equals("inceptionv3") || name.equals("xception") ? 299 : 224, 1);
        System.out.printf(Locale.ROOT, "%s_notop: full-size checks took %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
    }

    private static void check(String name, String model, int size, int batch) {
        check(name, model, size, batch, KerasApplicationsTest.h5(model));
    }

    /**
     * The checks on {@code file} (the model's .h5, or another file with its weights: a .keras),
     * TensorFlow.js running the .h5; returns graft's output and its error against TensorFlow.js.
     */
    static Checked check(String name, String model, int size, int batch, Path file) {
        TfjsOracle.assumeInstalled();
        Path h5 = KerasApplicationsTest.h5(model);
        KerasApplicationsTest.countsAreKeras(model, file);
        JsonNode free = KerasApplicationsTest.inspect(file).path("inputs").get(0);
        assertThat(free.path("shape").asText()).isEqualTo("(N, H, W, 3)");

        Path scratch = TestPaths.scratch("keras-notop-" + file.getFileName().toString().replace('.', '-'));
        Path onnx = scratch.resolve("fixed" + size + ".onnx");
        String fix = "set-input-shape " + size + "x" + size + "x3";
        JsonNode fixed = fixed(model, file, size, onnx);

        Tensor x = input(name, size, batch);
        TfjsOracle.Job job;
        if (name.startsWith("efficientnet")) {
            Path xs = scratch.resolve("x.npy");
            Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
            Path stem = scratch.resolve("stem.npy");
            Path tail = scratch.resolve("tail.json");
            Python.run(KerasApplicationsTest.ORACLE, "stem", h5.toString(), xs.toString(), stem.toString());
            Python.run(KerasApplicationsTest.ORACLE, "tail", h5.toString(), tail.toString());
            Npy.Array a = Npy.read(stem);
            job = new TfjsOracle.Job(h5, tail, List.of(new Tensor(a.dtype(), a.shape(), a.data())));
        } else {
            job = new TfjsOracle.Job(h5, null, List.of(x));
        }
        Tensor want = KerasApplicationsTest.oracle(job, scratch);
        Tensor got = KerasApplicationsTest.runOnnx(onnx, x);
        assertThat(got.shape()).isEqualTo(want.shape());
        String outShape = fixed.path("outputs").get(0).path("shape").asText();
        assertThat(outShape).isEqualTo("(N, " + want.shape()[1] + ", " + want.shape()[2] + ", " + want.shape()[3] + ")");
        double e = TfjsOracle.relError(got, want);
        System.out.printf(Locale.ROOT, "%s: %s, output %s vs TensorFlow.js%s: %.2e relative; inspect %d rows, %d params (%d non-trainable) = Keras's%n",
                file.getFileName(), fix, Arrays.toString(want.shape()), name.startsWith("efficientnet") ? " (numpy stem)" : "", e,
                fixed.path("layers").size(), fixed.path("total_params").asLong(), fixed.path("non_trainable_params").asLong());
        if (!KerasApplicationsTest.float64Cut(name)) {
            assertThat(e).isLessThanOrEqualTo(TOLERANCE);
            return new Checked(got, e);
        }
        // MobileNetV2's output is a ReLU6 after 52 convolutions of random weights: float32 noise, as
        // KerasApplicationsTest.float64Cut explains; both float32 implementations against float64
        Path xs = scratch.resolve("x.npy");
        Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
        Path f64 = scratch.resolve("f64.npy");
        Python.run(TestPaths.fixtures().resolve("keras/keras_f64.py"), h5.toString(), xs.toString(), f64.toString());
        Npy.Array a = Npy.read(f64);
        double[] exact = KerasApplicationsTest.toDouble(new Tensor(a.dtype(), a.shape(), a.data()));
        double graft = KerasApplicationsTest.relative(KerasApplicationsTest.toDouble(got), exact);
        double tfjs = KerasApplicationsTest.relative(KerasApplicationsTest.toDouble(want), exact);
        System.out.printf(Locale.ROOT, "%s: vs float64: graft %.2e, TensorFlow.js %.2e relative%n", file.getFileName(), graft, tfjs);
        new KerasApplicationsTest.Cut(e, graft, tfjs).check();
        return new Checked(got, e);
    }

    /** graft's output (ONNX Runtime) and its relative error against TensorFlow.js's. */
    record Checked(Tensor graft, double vsTfjs) {}

    /**
     * graft surgery {@code set-input-shape SIZExSIZEx3} of {@code file} into {@code onnx}; checks
     * that inspect shows the fixed input and Keras's layer and parameter counts, and returns inspect's JSON.
     */
    static JsonNode fixed(String model, Path file, int size, Path onnx) {
        JsonNode keras = KerasApplicationsTest.spec(model).path("keras");
        Cli.Result r = Cli.run("surgery", file.toString(), "--edit", "set-input-shape " + size + "x" + size + "x3", "-o", onnx.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode fixed = KerasApplicationsTest.inspect(onnx);
        assertThat(fixed.path("inputs").get(0).path("shape").asText()).isEqualTo("(N, " + size + ", " + size + ", 3)");
        assertThat(fixed.path("layers").size()).isEqualTo(keras.path("layers").asInt());
        assertThat(fixed.path("total_params").asLong()).isEqualTo(keras.path("total_params").asLong());
        assertThat(fixed.path("non_trainable_params").asLong()).isEqualTo(keras.path("non_trainable_params").asLong());
        return fixed;
    }

    /** Seeded NHWC (batch, size, size, 3): uniform [-1, 1), or [0, 255) for EfficientNet, whose stem rescales pixels itself. */
    static Tensor input(String name, int size, int batch) {
        long[] shape = {batch, size, size, 3};
        Tensor x = Tensor.random(DataType.FLOAT, shape, 11);
        if (!name.startsWith("efficientnet")) {
            return x;
        }
        ByteBuffer src = x.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[src.remaining() / 4];
        for (int i = 0; i < v.length; i++) {
            v[i] = (src.getFloat(i * 4) + 1f) * 127.5f;
        }
        return Tensor.ofFloats(shape, v);
    }
}
