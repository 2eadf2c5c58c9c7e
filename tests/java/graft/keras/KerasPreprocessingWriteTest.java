package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * #16: the Keras writers write EfficientNet's Rescaling and Normalization back as those layers
 * (they refused them: "rescaling (Mul: an input is a constant ...), normalization/centered (Sub:
 * ...), normalization (Div: no Keras layer ...)"). On the EfficientNetB0 twin (its logits copy):
 * <ul>
 * <li>Keras 2 .h5: h5py reads the written Normalization's mean, variance and count equal to the
 * source's bit for bit (the variance is carried by the importer: from the divisor alone it is
 * not recoverable, see {@link PreprocessingWriter}); TensorFlow.js, which has no Normalization,
 * runs the written file's tail on numpy's stem of the written file (applications_oracle.py
 * stem / tail, as KerasApplicationsTest on the source), against the same on the source: 1e-5
 * relative.
 * <li>Keras 3 .keras: the written weights file, read with jhdf, holds the source's mean and
 * variance bits and its count (int32, as Keras 3 saves it); graft's ONNX of the written file
 * in ONNX Runtime, from the raw input, against TensorFlow.js's numpy-stem run of the source.
 * <li>Without the carried variance (a graph whose metadata lost it), the variance written is
 * the divisor squared, and Keras's divisor from it is the graph's divisor bit for bit; the
 * count is then 0.
 * </ul>
 */
class KerasPreprocessingWriteTest {
    static final double TOLERANCE = 1e-5;
    static final String MODEL = "efficientnetb0_small";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void efficientNetWritesAsH5AndKerasWithItsPreprocessingLayers() throws Exception {
        TfjsOracle.assumeInstalled();
        Path scratch = TestPaths.scratch("keras-preprocessing-write");
        Path source = scratch.resolve("source_logits.h5");
        Python.run(KerasApplicationsTest.ORACLE, "logits", KerasApplicationsTest.h5(MODEL).toString(), source.toString());
        Path h5 = scratch.resolve("written.h5");
        Path keras = scratch.resolve("written.keras");
        for (Path p : List.of(h5, keras)) {
            Files.deleteIfExists(p);
            Cli.Result r = Cli.run("convert", source.toString(), p.toString());
            assertThat(r.code()).as(r.err()).isZero();
        }

        // h5py: the Normalization's weights, bit for bit
        String want = Python.run(KerasApplicationsTest.ORACLE, "weights", source.toString(), "normalization").strip();
        String got = Python.run(KerasApplicationsTest.ORACLE, "weights", h5.toString(), "normalization").strip();
        System.out.println("h5py, source normalization: " + want);
        System.out.println("h5py, written normalization: " + got);
        assertThat(JSON.readTree(got)).isEqualTo(JSON.readTree(want));

        // TensorFlow.js on numpy's stem: the written .h5 against the source
        Tensor x = KerasApplicationsTest.input(MODEL, source, 2);
        Path xs = scratch.resolve("x.npy");
        Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        for (Path f : List.of(source, h5)) {
            Path stem = scratch.resolve(f.getFileName() + ".stem.npy");
            Path tail = scratch.resolve(f.getFileName() + ".tail.json");
            Python.run(KerasApplicationsTest.ORACLE, "stem", f.toString(), xs.toString(), stem.toString());
            Python.run(KerasApplicationsTest.ORACLE, "tail", f.toString(), tail.toString());
            Npy.Array a = Npy.read(stem);
            jobs.add(new TfjsOracle.Job(f, tail, List.of(new Tensor(a.dtype(), a.shape(), a.data()))));
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> out = TfjsOracle.predict(jobs, scratch.resolve("tfjs"), errors);
        assertThat(errors).containsOnlyNulls();
        Tensor reference = out.get(0).get(0);
        double eH5 = TfjsOracle.relError(out.get(1).get(0), reference);
        System.out.printf(Locale.ROOT, "EfficientNetB0 twin, written .h5: TensorFlow.js (numpy stem) vs the source's: %.2e relative%n", eH5);
        assertThat(eH5).isLessThanOrEqualTo(TOLERANCE);

        // .keras: the weights file's Normalization vars, and graft's ONNX of the written file
        float[][] srcVars = normalizationH5(source);
        try (FileSystem zip = FileSystems.newFileSystem(keras)) {
            Path w = scratch.resolve("written.weights.h5");
            Files.copy(zip.getPath("model.weights.h5"), w, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (HdfFile f = new HdfFile(w)) {
                Group vars = varsOf(f, "normalization");
                assertThat(vars).as("a vars group named 'normalization'").isNotNull();
                assertThat(bits((float[]) ((Dataset) vars.getChild("0")).getData())).isEqualTo(bits(srcVars[0]));
                assertThat(bits((float[]) ((Dataset) vars.getChild("1")).getData())).isEqualTo(bits(srcVars[1]));
                Dataset count = (Dataset) vars.getChild("2");
                assertThat(count.getDataType().getSize()).as("count is int32").isEqualTo(4);
                assertThat(((Number) count.getData()).longValue()).isEqualTo(1000L);
            }
        }
        Path onnx = scratch.resolve("written_keras.onnx");
        Cli.Result r = Cli.run("convert", "--force", keras.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        double eKeras = TfjsOracle.relError(KerasApplicationsTest.runOnnx(onnx, x), reference);
        System.out.printf(Locale.ROOT, "EfficientNetB0 twin, written .keras: graft ONNX vs TensorFlow.js (numpy stem) on the source: %.2e relative%n", eKeras);
        assertThat(eKeras).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void withoutTheCarriedVarianceTheDivisorSquaredGivesKerasTheSameDivisor() throws Exception {
        Path source = KerasApplicationsTest.h5(MODEL);
        Graph g = new KerasFormat().read(source, Options.none());
        assertThat(g.metadata()).containsKey(Preprocessing.CARRIED);
        g.metadata().remove(Preprocessing.CARRIED);
        Path out = TestPaths.scratch("keras-preprocessing-write").resolve("uncarried.h5");
        Files.deleteIfExists(out);
        KerasExporter.write(g, out, false, List.of(source), false);
        float[][] src = normalizationH5(source);
        float[][] got = normalizationH5(out);
        assertThat(bits(got[0])).isEqualTo(bits(src[0]));
        int sameBits = 0;
        for (int i = 0; i < src[1].length; i++) {
            assertThat(Float.floatToRawIntBits(PreprocessingWriter.divisor(got[1][i])))
                    .as("channel " + i).isEqualTo(Float.floatToRawIntBits(PreprocessingWriter.divisor(src[1][i])));
            sameBits += Float.floatToRawIntBits(got[1][i]) == Float.floatToRawIntBits(src[1][i]) ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "without the carried variance: %d of %d channels' variance bit-equal to the source's, every divisor equal%n",
                sameBits, src[1].length);
        try (HdfFile f = new HdfFile(out)) {
            Dataset count = (Dataset) f.getByPath("model_weights/normalization/normalization/count:0");
            assertThat(((Number) count.getData()).longValue()).isZero();
        }
    }

    /**
     * A Sub and a Div by scalar constants over 5 features (an ONNX-like graph, not from Keras): a
     * Normalization needs one mean and variance per channel, so the scalars are repeated (they
     * were written with shape [1], which Keras cannot load for 5 features); graft's import of the
     * written file computes (x - 0.5) / 2 exactly as Java does, and the file holds mean [5] of 0.5
     * and variance [5] of 4.
     */
    @Test
    void scalarSubAndDivAreWrittenAsAPerChannelNormalization() throws Exception {
        Graph g = new Graph("scalar_norm");
        g.inputs().add(new graft.ir.Value("x", new graft.ir.TensorType(graft.ir.DataType.FLOAT, graft.ir.Shape.of(1, 5))));
        g.addInitializer(graft.ir.Weight.ofFloats("m", new long[] {1}, new float[] {0.5f}));
        g.addInitializer(graft.ir.Weight.ofFloats("d", new long[] {1}, new float[] {2f}));
        g.nodes().add(graft.ir.Node.of(graft.ir.Op.SUB, "centered", "norm", List.of("x", "m"), List.of("c"), java.util.Map.of()));
        g.nodes().add(graft.ir.Node.of(graft.ir.Op.DIV, "norm", "norm", List.of("c", "d"), List.of("y"), java.util.Map.of()));
        g.outputs().add(new graft.ir.Value("y", null));
        Path out = TestPaths.scratch("keras-preprocessing-write").resolve("scalar_norm.h5");
        Files.deleteIfExists(out);
        KerasExporter.write(g, out, false, List.of(), false);
        try (HdfFile f = new HdfFile(out)) {
            Dataset mean = f.getDatasetByPath("model_weights/norm/norm/mean:0");
            Dataset var = f.getDatasetByPath("model_weights/norm/norm/variance:0");
            assertThat(mean.getDimensions()).containsExactly(5);
            assertThat((float[]) mean.getData()).containsOnly(0.5f);
            assertThat((float[]) var.getData()).containsExactly(4f, 4f, 4f, 4f, 4f);
        }
        Path onnx = out.resolveSibling("scalar_norm.onnx");
        Cli.Result r = Cli.run("convert", "--force", out.toString(), onnx.toString());
        assertThat(r.code()).as(r.err()).isZero();
        float[] x = {-3f, 0f, 0.5f, 1.25f, 7f};
        float[] y = KerasApplicationsTest.runOnnx(onnx, Tensor.ofFloats(new long[] {1, 5}, x)).toFloats();
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).isEqualTo((x[i] - 0.5f) / 2f);
        }
    }

    /** The source's Normalization mean and variance (a Keras 2 .h5), read with jhdf. */
    static float[][] normalizationH5(Path h5) {
        try (HdfFile f = new HdfFile(h5)) {
            return new float[][] {(float[]) f.getDatasetByPath("model_weights/normalization/normalization/mean:0").getData(),
                (float[]) f.getDatasetByPath("model_weights/normalization/normalization/variance:0").getData()};
        }
    }

    /** The {@code vars} group whose {@code name} attribute is {@code layer}, anywhere under layers/. */
    static Group varsOf(Group g, String layer) {
        for (Node c : g.getChildren().values()) {
            if (c instanceof Group cg) {
                if (cg.getName().equals("vars") && cg.getAttribute("name") != null && layer.equals(cg.getAttribute("name").getData())) {
                    return cg;
                }
                Group r = varsOf(cg, layer);
                if (r != null) {
                    return r;
                }
            }
        }
        return null;
    }

    static int[] bits(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        int[] r = new int[v.length];
        b.asIntBuffer().get(r);
        return r;
    }
}
