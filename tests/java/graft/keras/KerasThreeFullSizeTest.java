package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Tensor;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Slow suite: the six keras.applications models full size, with and without their top, as Keras 3
 * {@code .keras} files (issue #16). CI has no Keras, so each file is assembled at test time into
 * target/models/keras-applications/ by fixtures/keras/assemble_keras3.py (h5py, numpy, zipfile):
 * Keras 3.15.1's own config.json and metadata.json for the model (committed), and the weights of
 * the seed-0 Keras 2 .h5 the other slow tests use, laid out as Keras lays them out
 * (make_applications_keras3_full.py proved, with Keras, that the assembled files equal the ones
 * Keras saves: every HDF5 path and array, and load_model's predictions). Each:
 * <ol>
 *   <li>{@code inspect} of the .keras shows Keras's layers, total, trainable and non-trainable parameters;
 *   <li>with its top: graft convert of the .keras (its output Dense linear, as
 *       applications_oracle.py's {@code logits} makes the .h5's) in ONNX Runtime equals TensorFlow.js
 *       4.22 on the logits .h5 within 1e-5 relative (max |a - b| / max |ref|; EfficientNet with
 *       numpy's stem), as {@link KerasApplicationsTest#logits} does it for the .h5;
 *       without: {@code set-input-shape} to 224x224 (299x299) and TensorFlow.js on the .h5, as
 *       {@link KerasNotopTest} does it (MobileNetV2 by KerasApplicationsTest's float64 rule);
 *   <li>graft's ONNX of the .keras equals graft's ONNX of the .h5 within 1e-6 on the same input.
 * </ol>
 */
@Tag("slow")
class KerasThreeFullSizeTest {
    static final double H5_TOLERANCE = 1e-6;

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0",
            "resnet50_notop", "mobilenetv2_notop", "inceptionv3_notop", "densenet121_notop", "xception_notop", "efficientnetb0_notop"})
    void fullSizeKerasThreeMatchesTensorFlowJsAndTheH5(String model) {
        TfjsOracle.assumeInstalled();
        long t0 = System.nanoTime();
        Path keras = keras(model, false);
        Path scratch = TestPaths.scratch("keras3-full-" + model);
        double vsTfjs;
        double vsH5;
        if (model.endsWith("_notop")) {
            String name = model.replace("_notop", "");
            int size = name.equals("inceptionv3") || name.equals("xception") ? 299 : 224;
            KerasNotopTest.Checked c = KerasNotopTest.check(name, model, size, 1, keras); // asserts the TensorFlow.js bound
            Path fromH5 = scratch.resolve("from_h5.onnx");
            KerasNotopTest.fixed(model, KerasApplicationsTest.h5(model), size, fromH5);
            vsH5 = TfjsOracle.relError(c.graft(), KerasApplicationsTest.runOnnx(fromH5, KerasNotopTest.input(name, size, 1)));
            vsTfjs = c.vsTfjs();
        } else {
            KerasApplicationsTest.countsAreKeras(model, keras); // KerasNotopTest.check does it for the others
            KerasApplicationsTest.Logits l = KerasApplicationsTest.logits(model, 1, null, keras(model, true));
            vsTfjs = l.error();
            assertThat(vsTfjs).isLessThanOrEqualTo(KerasApplicationsTest.TOLERANCE);
            Path fromH5 = KerasThreeApplicationsTest.convert(l.logitsH5(), scratch.resolve("from_h5.onnx"));
            vsH5 = TfjsOracle.relError(l.graft(), KerasApplicationsTest.runOnnx(fromH5, l.input()));
        }
        System.out.printf(Locale.ROOT, "%s.keras: vs TensorFlow.js %.2e, vs graft's import of the .h5 %.2e relative; %.1f s%n", model,
                vsTfjs, vsH5, (System.nanoTime() - t0) / 1e9);
        assertThat(vsH5).isLessThanOrEqualTo(H5_TOLERANCE);
    }

    /** MODEL.keras (or MODEL_logits.keras, its output Dense linear), assembled once from the seed-0 .h5. */
    static Path keras(String model, boolean logits) {
        Path h5 = KerasApplicationsTest.h5(model);
        return KerasApplicationsTest.generated(model + (logits ? "_logits" : "") + ".keras", out -> {
            List<String> args = new ArrayList<>(List.of(model, h5.toString(), out.toString()));
            if (logits) {
                args.add("--logits");
            }
            Python.run(TestPaths.fixtures().resolve("keras/assemble_keras3.py"), args.toArray(String[]::new));
        });
    }
}
