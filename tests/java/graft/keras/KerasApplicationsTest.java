package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The six keras.applications topologies (ResNet50, MobileNetV2, InceptionV3, DenseNet121,
 * Xception, EfficientNetB0) end to end: Keras 2 .h5 files written by
 * fixtures/keras/make_applications.py from specs that real Keras 3.15.1 produced (layer names,
 * hyper-parameters, connections and Keras's own counts). The width-reduced twins are committed
 * fixtures (default suite); the full-size files are written into target/ by the same script
 * (slow suite).
 *
 * <p>Oracle: TensorFlow.js 4.22 on the same .h5, compared on logits (a copy of the file whose
 * output Dense is linear, fixtures/keras/applications_oracle.py). TensorFlow.js lacks
 * Normalization, so for EfficientNet numpy computes the stem (Rescaling, Normalization) and
 * TensorFlow.js runs the rest of the model from the stem's numpy output; graft's model runs
 * whole, from the raw input. The stem itself is compared with numpy through graft's
 * {@code cut-after normalization}.
 */
class KerasApplicationsTest {
    static final double TOLERANCE = 1e-5;
    static final Path APPS = TestPaths.fixtures().resolve("keras/applications");
    static final Path ORACLE = TestPaths.fixtures().resolve("keras/applications_oracle.py");

    /** The residual-block outputs cut after, and their rows in Keras's model.layers (equal in the small twins). */
    static final Map<String, String> CUTS = Map.of("resnet50", "conv4_block6_out", "mobilenetv2", "block_13_expand_relu", "inceptionv3", "mixed7");
    static final Map<String, Integer> CUT_ROWS = Map.of("conv4_block6_out", 142, "block_13_expand_relu", 118, "mixed7", 228);

    // ---- default suite: the width-reduced twins ----------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void smallModelMatchesTensorFlowJsOnLogits(String model) {
        assertThat(logitsError(model + "_small", 2)).isLessThanOrEqualTo(TOLERANCE);
    }

    /** fold-batchnorm on each DAG: every BatchNormalization folded away, the logits still TensorFlow.js's on the unfolded file. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void smallModelFoldBatchnormMatchesTensorFlowJs(String model) {
        assertThat(logitsError(model + "_small", 2, "fold-batchnorm")).isLessThanOrEqualTo(TOLERANCE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void smallModelInspectShowsKerasCounts(String model) {
        countsAreKeras(model + "_small");
    }

    static Stream<Arguments> cuts() {
        return CUTS.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> Arguments.of(e.getKey(), e.getValue()));
    }

    /**
     * MobileNetV2's block_13_expand_relu is a ReLU6 after 35 convolutions whose random-weight
     * activations reach |x| = 39: float32 accumulation noise grows smoothly with depth (small
     * twin, ONNX Runtime vs TensorFlow.js, max |a - b| / max |ref|: Conv1_relu 2.4e-7,
     * block_5_add 9.1e-7, block_12_add 2.9e-6, block_13_expand_BN 2.7e-6 at max |ref| 38.7), and
     * the ReLU6 divides the denominator by 6.5 without changing the absolute error: 1.5e-5
     * (full size 4.4e-5). TensorFlow.js itself is then more than 1e-5 away from the exact
     * function, so there both are measured against a float64 evaluation
     * (fixtures/keras/keras_f64.py, torch float64 from Keras's layer semantics), and graft must be
     * within 1e-5 of it, or at most twice as far from it as TensorFlow.js is: the two float32
     * implementations land the same distance from the exact function (small twin: graft 1.22e-5,
     * TensorFlow.js 1.12e-5; full size, another input: 3.1e-5 and 3.7e-5), while a conversion
     * error (a pad, an epsilon, a clip bound) shows at 1e-3 and above.
     */
    static boolean float64Cut(String model) {
        return model.startsWith("mobilenetv2");
    }

    /** A cut comparison: graft vs TensorFlow.js; with float64: graft and TensorFlow.js vs float64 (else NaN). */
    record Cut(double vsTfjs, double graftVsF64, double tfjsVsF64) {
        void check() {
            if (Double.isNaN(graftVsF64)) {
                assertThat(vsTfjs).isLessThanOrEqualTo(TOLERANCE);
            } else {
                assertThat(graftVsF64).isLessThanOrEqualTo(Math.max(TOLERANCE, 2 * tfjsVsF64));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cuts")
    void smallModelCutAfterBlockMatchesTensorFlowJsLayerOutput(String model, String layer) {
        cutError(model + "_small", layer, 2).check();
    }

    /**
     * Keras's fine-tuning idiom {@code for l in model.layers[:K]: l.trainable = False} is graft's
     * {@code freeze :K} (rows are model.layers indices, the InputLayer is row 0, and the slice is
     * Python's: end excluded), and {@code freeze ..LAYER} for the layer at row K-1 (a name range
     * is inclusive): inspect's trainable count after it equals the count computed from Keras's
     * spec (every weight of the layers from row K on, but BatchNormalization's moving
     * statistics). Checked at K = the cut layer's row + 1 (ResNet50's layers[:143]) and at the
     * first layer with weights after it, where an off-by-one would show.
     */
    @ParameterizedTest
    @MethodSource("cuts")
    void smallModelFreezeByKerasIndexRangeGivesKerasTrainableCount(String model, String layer) {
        JsonNode s = spec(model + "_small");
        List<String> names = new ArrayList<>();
        s.path("model_config").path("config").path("layers").forEach(l -> names.add(l.path("name").asText()));
        int k = CUT_ROWS.get(layer) + 1;
        freezeCount(model, k, names, s);
        // the cut layers hold no weights; the first layer with weights after them tells an inclusive range from an exclusive one
        int next = Integer.MAX_VALUE;
        for (JsonNode w : s.path("weights")) {
            int i = names.indexOf(w.path("layer").asText());
            if (i >= k) {
                next = Math.min(next, i);
            }
        }
        freezeCount(model, next + 1, names, s);
        // and by name: ..LAYER is inclusive
        Path out = TestPaths.scratch("keras-apps-freeze-" + model + "-name").resolve("frozen.onnx");
        Cli.Result r = Cli.run("surgery", h5(model + "_small").toString(), "--edit", "freeze .." + layer, "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(inspect(out).path("trainable_params").asLong()).isEqualTo(kerasTrainable(k, names, s));
    }

    static void freezeCount(String model, int k, List<String> names, JsonNode s) {
        Path out = TestPaths.scratch("keras-apps-freeze-" + model + "-" + k).resolve("frozen.onnx");
        Cli.Result r = Cli.run("surgery", h5(model + "_small").toString(), "--edit", "freeze :" + k, "-o", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        long want = kerasTrainable(k, names, s);
        JsonNode got = inspect(out);
        System.out.printf(Locale.ROOT, "%s: freeze :%d (Keras layers[:%d]): trainable %d, Keras %d; total %d%n", model, k, k,
                got.path("trainable_params").asLong(), want, got.path("total_params").asLong());
        assertThat(got.path("trainable_params").asLong()).isEqualTo(want);
        assertThat(got.path("total_params").asLong()).isEqualTo(s.path("keras").path("total_params").asLong());
    }

    /** Trainable parameters after Keras's {@code for l in model.layers[:k]: l.trainable = False}, from the spec. */
    static long kerasTrainable(int k, List<String> names, JsonNode s) {
        long want = 0;
        for (JsonNode w : s.path("weights")) {
            if (names.indexOf(w.path("layer").asText()) < k) {
                continue;
            }
            for (JsonNode pair : w.path("weights")) {
                if (!List.of("moving_mean", "moving_variance").contains(pair.get(0).asText())) {
                    long n = 1;
                    for (JsonNode d : pair.get(1)) {
                        n *= d.asLong();
                    }
                    want += n;
                }
            }
        }
        return want;
    }

    @ParameterizedTest
    @ValueSource(strings = {"efficientnetb0_small"})
    void efficientNetStemMatchesNumpy(String model) {
        Path h5 = h5(model);
        Path scratch = TestPaths.scratch("keras-apps-stem-" + model);
        Tensor x = input(model, h5, 2);
        Path cut = scratch.resolve("stem.onnx");
        Cli.Result r = Cli.run("surgery", h5.toString(), "--edit", "cut-after normalization", "-o", cut.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path xs = scratch.resolve("x.npy");
        Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
        Path want = scratch.resolve("stem.npy");
        Python.run(ORACLE, "stem", h5.toString(), xs.toString(), want.toString());
        Npy.Array a = Npy.read(want);
        Tensor got = runOnnx(cut, x);
        double e = TfjsOracle.relError(got, new Tensor(a.dtype(), a.shape(), a.data()));
        System.out.printf(Locale.ROOT, "%s: Rescaling + Normalization (cut-after normalization) vs numpy: %.2e relative%n", model, e);
        assertThat(e).isLessThanOrEqualTo(TOLERANCE);
    }

    /** Rescaling with an offset (EfficientNet's has none): a 3-layer model written by hand, against TensorFlow.js's Rescaling. */
    @org.junit.jupiter.api.Test
    void rescalingWithOffsetMatchesTensorFlowJs() {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-apps-rescaling");
        Path h5 = scratch.resolve("rescaling_offset.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_applications.py"), "h5", APPS.resolve("preprocessing_rescaling_offset.json").toString(),
                h5.toString());
        Path onnx = scratch.resolve("rescaling_offset.onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = input("efficientnetb0_small", h5, 2); // pixel values in [0, 255)
        Tensor want = oracle(new TfjsOracle.Job(h5, null, List.of(Tensor.ofFloats(new long[] {2, 8, 8, 3}, slice(x, 2 * 8 * 8 * 3)))), scratch);
        Tensor got = runOnnx(onnx, Tensor.ofFloats(new long[] {2, 8, 8, 3}, slice(x, 2 * 8 * 8 * 3)));
        double e = TfjsOracle.relError(got, want);
        System.out.printf(Locale.ROOT, "Rescaling(1/127.5, offset=-1) + Conv2D vs TensorFlow.js: %.2e relative%n", e);
        assertThat(e).isLessThanOrEqualTo(TOLERANCE);
    }

    /** Normalization(invert=True) is refused by name (exit 3), with no output file. */
    @org.junit.jupiter.api.Test
    void normalizationInvertIsRefused() {
        Path scratch = TestPaths.scratch("keras-apps-invert");
        Path h5 = scratch.resolve("normalization_invert.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_applications.py"), "h5", APPS.resolve("preprocessing_normalization_invert.json").toString(),
                h5.toString());
        Path onnx = scratch.resolve("invert.onnx");
        Cli.Result r = Cli.run("convert", h5.toString(), onnx.toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("normalization (Normalization: invert");
        assertThat(onnx).doesNotExist();
    }

    static float[] slice(Tensor t, int n) {
        ByteBuffer b = t.data().duplicate().order(ByteOrder.nativeOrder());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = b.getFloat(i * 4);
        }
        return v;
    }

    // ---- slow suite: full size -----------------------------------------------------------------

    @Tag("slow")
    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0"})
    void fullModelMatchesTensorFlowJsOnLogits(String model) {
        long t0 = System.nanoTime();
        assertThat(logitsError(model, 1)).isLessThanOrEqualTo(TOLERANCE);
        countsAreKeras(model);
        if (CUTS.containsKey(model)) {
            cutError(model, CUTS.get(model), 1).check();
        }
        System.out.printf(Locale.ROOT, "%s: full-size checks took %.1f s%n", model, (System.nanoTime() - t0) / 1e9);
    }

    // ---- the checks ----------------------------------------------------------------------------

    /** graft convert of the logits twin in ONNX Runtime against TensorFlow.js; returns the relative error. */
    static double logitsError(String model, int batch) {
        return logitsError(model, batch, null);
    }

    /**
     * As {@link #logitsError(String, int)}, with graft's model made by {@code graft surgery --edit EDIT}
     * instead of {@code graft convert} when {@code edit} is not null.
     */
    static double logitsError(String model, int batch, String edit) {
        return logits(model, batch, edit, null).error();
    }

    /**
     * One logits comparison: graft's model in ONNX Runtime and TensorFlow.js on the logits .h5
     * (both fed {@code input}), and their relative error.
     */
    record Logits(Tensor input, Tensor graft, Tensor tfjs, Path logitsH5, double error) {}

    /**
     * As {@link #logitsError(String, int, String)}, with graft reading {@code graftInput} (a file
     * with the logits .h5's weights and a linear output Dense, such as a Keras 3 .keras) instead
     * of the logits .h5 when it is not null.
     */
    static Logits logits(String model, int batch, String edit, Path graftInput) {
        TfjsOracle.assumeInstalled();
        Path h5 = h5(model);
        Path scratch = TestPaths.scratch("keras-apps-" + model + (edit == null ? "" : "-" + edit.replace(' ', '-'))
                + (graftInput == null ? "" : "-" + graftInput.getFileName().toString().replace('.', '-')));
        Path logits = scratch.resolve(model + "_logits.h5");
        Python.run(ORACLE, "logits", h5.toString(), logits.toString());
        Path source = graftInput == null ? logits : graftInput;
        Path onnx = scratch.resolve(model + ".onnx");
        long t0 = System.nanoTime();
        Cli.Result r = edit == null ? Cli.run("convert", source.toString(), onnx.toString())
                : Cli.run("surgery", source.toString(), "--edit", edit, "-o", onnx.toString());
        double convertS = (System.nanoTime() - t0) / 1e9;
        assertThat(r.code()).as(r.err()).isZero();
        Tensor x = input(model, h5, batch);
        TfjsOracle.Job job;
        if (model.startsWith("efficientnet")) {
            Path xs = scratch.resolve("x.npy");
            Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
            Path stem = scratch.resolve("stem.npy");
            Path tail = scratch.resolve("tail.json");
            Python.run(ORACLE, "stem", logits.toString(), xs.toString(), stem.toString());
            Python.run(ORACLE, "tail", logits.toString(), tail.toString());
            Npy.Array a = Npy.read(stem);
            job = new TfjsOracle.Job(logits, tail, List.of(new Tensor(a.dtype(), a.shape(), a.data())));
        } else {
            job = new TfjsOracle.Job(logits, null, List.of(x));
        }
        Tensor want = oracle(job, scratch);
        Tensor got = runOnnx(onnx, x);
        assertThat(got.shape()).isEqualTo(want.shape());
        double e = TfjsOracle.relError(got, want);
        System.out.printf(Locale.ROOT, "%s%s%s: logits %s vs TensorFlow.js%s: %.2e relative (%s %.1f s)%n", model,
                graftInput == null ? "" : " (" + graftInput.getFileName() + ")", edit == null ? "" : " after " + edit,
                java.util.Arrays.toString(want.shape()), model.startsWith("efficientnet") ? " (numpy stem)" : "", e, edit == null ? "convert" : "surgery", convertS);
        if (edit != null && edit.equals("fold-batchnorm")) {
            List<String> left = new ArrayList<>();
            for (JsonNode row : inspect(onnx).path("layers")) {
                if (row.path("ops").asText().contains("BatchNormalization")) {
                    left.add(row.path("name").asText());
                }
            }
            List<String> unfoldable = unfoldableBatchNorms(model);
            System.out.printf(Locale.ROOT, "%s: fold-batchnorm left %d BatchNormalization layers (%d follow no convolution of their own)%n",
                    model, left.size(), unfoldable.size());
            assertThat(left).as("BatchNormalization layers left after fold-batchnorm").containsExactlyInAnyOrderElementsOf(unfoldable);
        }
        return new Logits(x, got, want, logits, e);
    }

    /** graft surgery cut-after LAYER in ONNX Runtime against TensorFlow.js's output of that layer. */
    static Cut cutError(String model, String layer, int batch) {
        TfjsOracle.assumeInstalled();
        Path h5 = h5(model);
        Path scratch = TestPaths.scratch("keras-apps-cut-" + model);
        Path cut = scratch.resolve("cut.onnx");
        Cli.Result r = Cli.run("surgery", h5.toString(), "--edit", "cut-after " + layer, "-o", cut.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = inspect(cut).path("layers");
        JsonNode last = rows.get(rows.size() - 1);
        assertThat(last.path("name").asText()).isEqualTo(layer);
        assertThat(last.path("index").asInt()).as("row of " + layer).isEqualTo(CUT_ROWS.get(layer));
        Tensor x = input(model, h5, batch);
        Tensor want = oracle(new TfjsOracle.Job(h5, null, List.of(x), layer), scratch);
        Tensor got = runOnnx(cut, x);
        assertThat(got.shape()).isEqualTo(want.shape());
        double e = TfjsOracle.relError(got, want);
        System.out.printf(Locale.ROOT, "%s: cut-after %s (row %d) %s vs TensorFlow.js: %.2e relative%n", model, layer,
                last.path("index").asInt(), java.util.Arrays.toString(want.shape()), e);
        if (!float64Cut(model)) {
            return new Cut(e, Double.NaN, Double.NaN);
        }
        Path xs = scratch.resolve("x.npy");
        Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
        Path f64 = scratch.resolve("f64.npy");
        Python.run(TestPaths.fixtures().resolve("keras/keras_f64.py"), h5.toString(), xs.toString(), f64.toString(), layer);
        Npy.Array a = Npy.read(f64);
        Tensor exact = new Tensor(a.dtype(), a.shape(), a.data());
        Cut c = new Cut(e, relative(toDouble(got), toDouble(exact)), relative(toDouble(want), toDouble(exact)));
        System.out.printf(Locale.ROOT, "%s: cut-after %s vs float64: graft %.2e, TensorFlow.js %.2e relative%n", model, layer,
                c.graftVsF64(), c.tfjsVsF64());
        return c;
    }

    /** A float32 tensor's values, or a float64 .npy tensor's (little-endian), as doubles. */
    static double[] toDouble(Tensor t) {
        if (t.dtype() != DataType.DOUBLE) {
            float[] f = t.toFloats();
            double[] v = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                v[i] = f[i];
            }
            return v;
        }
        ByteBuffer b = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        double[] v = new double[b.remaining() / 8];
        for (int i = 0; i < v.length; i++) {
            v[i] = b.getDouble(i * 8);
        }
        return v;
    }

    /** max |a - ref| / max |ref| (Errors.relativeToMagnitude) in double precision. */
    static double relative(double[] a, double[] ref) {
        assertThat(a.length).isEqualTo(ref.length);
        return graft.testing.Errors.relativeToMagnitude(a, ref);
    }

    /** inspect --json: rows, total, trainable and non-trainable parameters equal Keras's recorded counts. */
    static void countsAreKeras(String model) {
        countsAreKeras(model, h5(model));
    }

    /** As {@link #countsAreKeras(String)}, on {@code file}: the model's .h5 or another file of it (a .keras). */
    static void countsAreKeras(String model, Path file) {
        JsonNode keras = spec(model).path("keras");
        JsonNode got = inspect(file);
        System.out.printf(Locale.ROOT, "%s: inspect %s: %d rows, %d params (%d non-trainable); Keras %d layers, %d (%d)%n", model, file.getFileName(),
                got.path("layers").size(), got.path("total_params").asLong(), got.path("non_trainable_params").asLong(),
                keras.path("layers").asInt(), keras.path("total_params").asLong(), keras.path("non_trainable_params").asLong());
        assertThat(got.path("layers").size()).isEqualTo(keras.path("layers").asInt());
        assertThat(got.path("total_params").asLong()).isEqualTo(keras.path("total_params").asLong());
        assertThat(got.path("trainable_params").asLong()).isEqualTo(keras.path("trainable_params").asLong());
        assertThat(got.path("non_trainable_params").asLong()).isEqualTo(keras.path("non_trainable_params").asLong());
    }

    // ---- helpers -------------------------------------------------------------------------------

    /**
     * From the Keras config: the BatchNormalization layers that do not directly follow a
     * convolution (Conv2D, DepthwiseConv2D, SeparableConv2D) whose only reader they are, such as
     * DenseNet's pre-activation BNs after a Concatenate or a pooling: nothing to fold them into.
     */
    static List<String> unfoldableBatchNorms(String model) {
        JsonNode layers = spec(model).path("model_config").path("config").path("layers");
        Map<String, String> cls = new java.util.HashMap<>();
        Map<String, Integer> readers = new java.util.HashMap<>();
        for (JsonNode l : layers) {
            cls.put(l.path("name").asText(), l.path("class_name").asText());
            for (JsonNode node : l.path("inbound_nodes")) {
                for (JsonNode ref : node) {
                    readers.merge(ref.get(0).asText(), 1, Integer::sum);
                }
            }
        }
        List<String> r = new ArrayList<>();
        for (JsonNode l : layers) {
            if (!l.path("class_name").asText().equals("BatchNormalization")) {
                continue;
            }
            String in = l.path("inbound_nodes").get(0).get(0).get(0).asText();
            boolean conv = List.of("Conv2D", "DepthwiseConv2D", "SeparableConv2D").contains(cls.get(in));
            if (!conv || readers.getOrDefault(in, 0) != 1) {
                r.add(l.path("name").asText());
            }
        }
        return r;
    }

    static JsonNode inspect(Path model) {
        Cli.Result r = Cli.run("inspect", "--json", model.toString());
        assertThat(r.code()).as(r.err()).isZero();
        try {
            return new ObjectMapper().readTree(r.out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode spec(String model) {
        try {
            return new ObjectMapper().readTree(APPS.resolve(model + ".json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The committed small twin, or the full-size file written (once) into target/ from its spec, seed 0. */
    static synchronized Path h5(String model) {
        Path committed = APPS.resolve(model + ".h5");
        if (model.endsWith("_small")) {
            return committed;
        }
        return generated(model + ".h5", out -> Python.run(TestPaths.fixtures().resolve("keras/make_applications.py"), "h5",
                APPS.resolve(model + ".json").toString(), out.toString(), "--seed", "0"));
    }

    /** target/models/keras-applications/FILE, written once by {@code write} (given the path to write) when it is not there. */
    static synchronized Path generated(String file, java.util.function.Consumer<Path> write) {
        Path out = TestPaths.root().resolve("target/models/keras-applications/" + file);
        if (!Files.exists(out)) {
            try {
                Files.createDirectories(out.getParent());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            write.accept(out);
        }
        return out;
    }

    /**
     * A seeded NHWC input of the model's size: uniform in [-1, 1), or [0, 255) for EfficientNet,
     * whose stem rescales pixel values itself.
     */
    static Tensor input(String model, Path h5, int batch) {
        JsonNode in = spec(model.replace(".h5", "")).path("model_config").path("config").path("layers").get(0).path("config").path("batch_input_shape");
        long[] shape = {batch, in.get(1).asLong(), in.get(2).asLong(), in.get(3).asLong()};
        Tensor x = Tensor.random(DataType.FLOAT, shape, 11);
        if (!model.startsWith("efficientnet")) {
            return x;
        }
        ByteBuffer src = x.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = src.remaining() / 4;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (src.getFloat(i * 4) + 1f) * 127.5f;
        }
        return Tensor.ofFloats(shape, v);
    }

    static Tensor oracle(TfjsOracle.Job job, Path scratch) {
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> out = TfjsOracle.predict(List.of(job), scratch.resolve("tfjs"), errors);
        assertThat(errors.get(0)).as("TensorFlow.js").isNull();
        return out.get(0).get(0);
    }

    static Tensor runOnnx(Path onnx, Tensor x) {
        try (OrtRunner ort = OrtRunner.open(onnx, Device.CPU)) {
            String in = ort.inputs().keySet().iterator().next();
            return ort.run(Map.of(in, x)).values().iterator().next();
        }
    }
}
