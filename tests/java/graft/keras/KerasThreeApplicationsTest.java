package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import graft.io.Npy;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Keras 3 {@code .keras} twins of the keras.applications fixtures, saved by real Keras 3.15.1
 * with the weights of the Keras 2 .h5 twins (fixtures/keras/make_applications_keras3.py): the six
 * include_top=False feature extractors (input (None, None, 3)) and ResNet50 with its head. Each:
 * <ol>
 *   <li>{@code inspect} of the .keras shows Keras's layers, parameters and non-trainable parameters;
 *   <li>graft's ONNX of the .keras in ONNX Runtime equals Keras 3's own {@code predict} on the
 *       committed seeded input within 1e-5 relative (max |a - b| / max |ref|; MobileNetV2 by
 *       KerasApplicationsTest's float64 rule: graft within 1e-5 of a float64 evaluation or at most
 *       twice as far from it as Keras is);
 *   <li>equals graft's ONNX of the .h5 with the same weights within 1e-6;
 *   <li>graft's .keras writer round trip (.keras to .keras, then ONNX) gives the same numbers
 *       within 1e-6 and the same counts; EfficientNet's too (its Rescaling and Normalization are
 *       written back since #16's export work), with the same parameters, but more layers: graft's
 *       writers write each swish as Activation('sigmoid') + Multiply.
 * </ol>
 */
class KerasThreeApplicationsTest {
    static final Path APPS = KerasApplicationsTest.APPS;

    @ParameterizedTest
    @ValueSource(strings = {"resnet50_notop_small", "mobilenetv2_notop_small", "inceptionv3_notop_small", "densenet121_notop_small",
            "xception_notop_small", "efficientnetb0_notop_small", "resnet50_small"})
    void kerasThreeTwinMatchesKerasAndTheH5AndRoundTrips(String model) throws java.io.IOException {
        Path keras = APPS.resolve(model + ".keras");
        Path x = APPS.resolve(model + "_keras3_input.npy");
        Path y = APPS.resolve(model + "_keras3_output.npy");
        JsonNode spec = KerasApplicationsTest.spec(model).path("keras");
        Path scratch = TestPaths.scratch("keras3-apps-" + model);

        counts(keras, spec);
        Path fromKeras = convert(keras, scratch.resolve("from_keras.onnx"));
        double vsKeras = KerasThreeSavedTest.relError(fromKeras, x, y);

        Path fromH5 = convert(APPS.resolve(model + ".h5"), scratch.resolve("from_h5.onnx"));
        Tensor a = run(fromKeras, x);
        double vsH5 = TfjsOracle.relError(a, run(fromH5, x));

        Path written = scratch.resolve("round_trip.keras");
        java.nio.file.Files.deleteIfExists(written);
        Cli.Result w = Cli.run("convert", "--force", keras.toString(), written.toString());
        double trip;
        if (model.startsWith("efficientnet")) {
            // Rescaling and Normalization are written back (KerasPreprocessingWriteTest); each swish becomes two layers
            assertThat(w.code()).as(w.err()).isZero();
            JsonNode got = KerasApplicationsTest.inspect(written);
            System.out.printf(Locale.ROOT, "%s .keras round trip: %d layers (Keras %d), %d params%n", model, got.path("layers").size(),
                    spec.path("layers").asInt(), got.path("total_params").asLong());
            assertThat(got.path("total_params").asLong()).isEqualTo(spec.path("total_params").asLong());
            assertThat(got.path("trainable_params").asLong()).isEqualTo(spec.path("trainable_params").asLong());
            assertThat(got.path("non_trainable_params").asLong()).isEqualTo(spec.path("non_trainable_params").asLong());
            trip = TfjsOracle.relError(run(convert(written, scratch.resolve("round_trip.onnx")), x), a);
        } else {
            assertThat(w.code()).as(w.err()).isZero();
            counts(written, spec);
            trip = TfjsOracle.relError(run(convert(written, scratch.resolve("round_trip.onnx")), x), a);
        }

        System.out.printf(Locale.ROOT, "%s.keras: vs Keras 3.15.1 %.2e, vs the .h5's import %.2e, graft .keras round trip %.2e relative; "
                + "%d layers / %d params / %d non-trainable = Keras's%n", model, vsKeras, vsH5, trip,
                spec.path("layers").asInt(), spec.path("total_params").asLong(), spec.path("non_trainable_params").asLong());
        if (KerasApplicationsTest.float64Cut(model)) {
            // MobileNetV2's output is a ReLU6 after 52 convolutions: float32 noise (KerasApplicationsTest.float64Cut);
            // graft and Keras 3 both against a float64 evaluation of the .h5 with the same weights
            Path f64 = scratch.resolve("f64.npy");
            Python.run(TestPaths.fixtures().resolve("keras/keras_f64.py"), APPS.resolve(model + ".h5").toString(), x.toString(), f64.toString());
            Npy.Array e = Npy.read(f64);
            double[] exact = KerasApplicationsTest.toDouble(new Tensor(e.dtype(), e.shape(), e.data()));
            Npy.Array k = Npy.read(y);
            double graft = KerasApplicationsTest.relative(KerasApplicationsTest.toDouble(a), exact);
            double keras3 = KerasApplicationsTest.relative(KerasApplicationsTest.toDouble(Tensor.ofFloats(k.shape(), k.toFloats())), exact);
            System.out.printf(Locale.ROOT, "%s.keras: vs float64: graft %.2e, Keras 3.15.1 %.2e relative%n", model, graft, keras3);
            new KerasApplicationsTest.Cut(vsKeras, graft, keras3).check();
        } else {
            assertThat(vsKeras).isLessThanOrEqualTo(KerasApplicationsTest.TOLERANCE);
        }
        assertThat(vsH5).isLessThanOrEqualTo(1e-6);
        assertThat(trip).isLessThanOrEqualTo(1e-6);
    }

    static void counts(Path file, JsonNode spec) {
        JsonNode got = KerasApplicationsTest.inspect(file);
        assertThat(got.path("layers").size()).as(file + " layers").isEqualTo(spec.path("layers").asInt());
        assertThat(got.path("total_params").asLong()).as(file + " params").isEqualTo(spec.path("total_params").asLong());
        assertThat(got.path("trainable_params").asLong()).as(file + " trainable").isEqualTo(spec.path("trainable_params").asLong());
        assertThat(got.path("non_trainable_params").asLong()).as(file + " non-trainable").isEqualTo(spec.path("non_trainable_params").asLong());
    }

    static Path convert(Path in, Path out) {
        Cli.Result r = Cli.run("convert", "--force", in.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    static Tensor run(Path onnx, Path input) {
        Npy.Array x = Npy.read(input);
        return KerasApplicationsTest.runOnnx(onnx, Tensor.ofFloats(x.shape(), x.toFloats()));
    }
}
