package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.io.Npy;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Errors;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * #16 item 4, the export matrix: each keras.applications twin and each torchvision export
 * written by {@code graft convert} to ONNX at opsets 9, 13 and 17, Keras 2 {@code .h5}, Keras 3
 * {@code .keras} and Caffe, and every written file run by an implementation other than graft
 * against the source's oracle, or the writer's refusal checked (exit 3, one line naming the
 * nodes, no output file). Error: max |a - b| / max |ref| on logits, tolerance 1e-5 (no model
 * here needs KerasApplicationsTest's MobileNetV2 float32-noise rule: that rule is for its
 * {@code block_13_expand_relu} cut, and the logits are within 1e-5).
 *
 * <p>Keras sources (the six twins' logits copies, batch 2): ONNX Runtime on each ONNX file,
 * TensorFlow.js on the written {@code .h5} (EfficientNet: numpy's stem, then TensorFlow.js on
 * the rest, of the written file, as KerasApplicationsTest does on the source), OpenCV on the
 * written Caffe pair, each against TensorFlow.js on the source. The written {@code .keras}:
 * its weights file read with jhdf directly (not graft's importer) holds every weight of the
 * source's {@code .h5}, found by layer name, bit for bit; and graft's ONNX of it against
 * TensorFlow.js on the source (that half reads it with graft's own reader).
 *
 * <p>torchvision sources (PyTorch's opset 17 export, fixtures/onnx/make_torchvision.py): the
 * same targets against PyTorch's logits; the Keras and Caffe writers are run with
 * {@code --simplify} (PyTorch gives Clip's bounds and Pad's pads as Constant nodes, which the
 * implicit constant folding of Keras and Caffe targets leaves), the Keras writers with
 * {@code --keras-explicit-padding} (PyTorch's symmetric pads are not Keras's 'same'), and the
 * written {@code .keras} is checked through graft's ONNX of it only (there is no source .h5 to
 * compare weights with). resnet50, densenet121 and inception_v3 are in the slow suite.
 *
 * <p>The measured matrix is written to target/export-matrix.md (one section per family).
 */
class ExportMatrixTest {
    static final double TOLERANCE = 1e-5;
    static final List<String> TARGETS = List.of("ONNX 9", "ONNX 13", "ONNX 17", ".h5", ".keras", "Caffe");
    static final Path TORCHVISION = TestPaths.root().resolve("target/torchvision");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One model's cells, by target: the error, or "refused: ...". */
    record Row(String model, Map<String, String> cells) {
    }

    /** A comparison to make once the oracles have run. */
    private record Pending(String model, String target, Tensor got, int job, boolean nchwOut) {
    }

    @Test
    void kerasTwinsToEveryFormat() throws IOException {
        TfjsOracle.assumeInstalled();
        Path dir = TestPaths.scratch("export-matrix-keras");
        List<Row> rows = new ArrayList<>();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Pending> pending = new ArrayList<>();
        List<Pending> tfjsPending = new ArrayList<>();
        ArrayNode opencv = JSON.createArrayNode();
        List<Pending> cvPending = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Map<String, Integer> refJob = new LinkedHashMap<>();
        for (String model : List.of("resnet50", "mobilenetv2", "inceptionv3", "densenet121", "xception", "efficientnetb0")) {
            String twin = model + "_small";
            Path d = Files.createDirectories(dir.resolve(model));
            Path src = d.resolve("source.h5");
            Python.run(KerasApplicationsTest.ORACLE, "logits", KerasApplicationsTest.h5(twin).toString(), src.toString());
            Tensor x = KerasApplicationsTest.input(twin, src, 2);
            Path xs = d.resolve("x.npy");
            Npy.write(xs, x.dtype(), x.shape(), x.data(), true);
            refJob.put(model, jobs.size());
            jobs.add(tfjsJob(model, src, xs, x));
            Row row = new Row(model, new LinkedHashMap<>());
            rows.add(row);
            for (int opset : new int[] {9, 13, 17}) {
                Path out = d.resolve("opset" + opset + ".onnx");
                String target = "ONNX " + opset;
                if (written(row, target, out, failures, "convert", "--force", src.toString(), out.toString(), "--opset", Integer.toString(opset))) {
                    pending.add(new Pending(model, target, KerasApplicationsTest.runOnnx(out, x), refJob.get(model), false));
                }
            }
            Path h5 = d.resolve("written.h5");
            if (written(row, ".h5", h5, failures, "convert", "--force", src.toString(), h5.toString())) {
                tfjsPending.add(new Pending(model, ".h5", null, jobs.size(), false));
                jobs.add(tfjsJob(model, h5, xs, x));
            }
            Path keras = d.resolve("written.keras");
            if (written(row, ".keras", keras, failures, "convert", "--force", src.toString(), keras.toString())) {
                int checked = sameWeights(src, keras, d);
                Path onnx = d.resolve("from_keras.onnx");
                Cli.Result r = Cli.run("convert", "--force", keras.toString(), onnx.toString());
                assertThat(r.code()).as(model + " .keras -> ONNX: " + r.err()).isZero();
                System.out.printf(Locale.ROOT, "%s: written .keras holds the source's %d weights bit for bit (jhdf)%n", model, checked);
                pending.add(new Pending(model, ".keras", KerasApplicationsTest.runOnnx(onnx, x), refJob.get(model), false));
            }
            Path proto = d.resolve("written.prototxt");
            if (written(row, "Caffe", proto, failures, "convert", "--force", src.toString(), proto.toString())) {
                Path in = d.resolve("x_nchw.npy");
                Tensor nchw = transpose(x, 0, 3, 1, 2);
                Npy.write(in, nchw.dtype(), nchw.shape(), nchw.data(), true);
                opencvJob(opencv, proto, in, d.resolve("opencv.npy"));
                cvPending.add(new Pending(model, "Caffe", null, refJob.get(model), false));
            }
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> tfjs = TfjsOracle.predict(jobs, dir.resolve("tfjs"), errors);
        for (int i = 0; i < errors.size(); i++) {
            assertThat(errors.get(i)).as("TensorFlow.js job " + i + " (" + jobs.get(i).model() + ")").isNull();
        }
        List<Tensor> cv = runOpencv(opencv, dir);
        for (Pending p : pending) {
            record(rows, p.model(), p.target(), p.got(), tfjs.get(p.job()).get(0), failures);
        }
        for (Pending p : tfjsPending) {
            record(rows, p.model(), p.target(), tfjs.get(p.job()).get(0), tfjs.get(refJob.get(p.model())).get(0), failures);
        }
        for (int i = 0; i < cvPending.size(); i++) {
            Pending p = cvPending.get(i);
            record(rows, p.model(), p.target(), cv.get(i), tfjs.get(p.job()).get(0), failures);
        }
        String table = table(rows, "vs TensorFlow.js on the source");
        writeSection("keras", "### keras.applications twins (Keras 2 .h5 source, logits, batch 2)\n\n" + table);
        System.out.println(table);
        assertThat(failures).as(table).isEmpty();
    }

    @Test
    void torchvisionExportsToEveryFormat() throws IOException {
        torchvision("torchvision", List.of("mobilenet_v2:64", "efficientnet_b0:64", "squeezenet1_1:64", "shufflenet_v2_x1_0:64"));
    }

    @Tag("slow")
    @Test
    void largerTorchvisionExportsToEveryFormat() throws IOException {
        torchvision("torchvision-slow", List.of("resnet50:64", "densenet121:64", "inception_v3:75"));
    }

    void torchvision(String section, List<String> models) throws IOException {
        TfjsOracle.assumeInstalled();
        Path dir = TestPaths.scratch("export-matrix-" + section);
        List<Row> rows = new ArrayList<>();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Pending> pending = new ArrayList<>();
        List<Pending> tfjsPending = new ArrayList<>();
        ArrayNode opencv = JSON.createArrayNode();
        List<Pending> cvPending = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        Map<String, Tensor> torch = new LinkedHashMap<>();
        for (String spec : models) {
            String model = spec.split(":")[0];
            Python.run(TestPaths.fixtures().resolve("onnx/make_torchvision.py"), TORCHVISION.toString(), spec + ":17");
            Path src = TORCHVISION.resolve(model + "_opset17.onnx");
            Tensor x = npy(TORCHVISION.resolve(model + "_input.npy"));
            torch.put(model, npy(TORCHVISION.resolve(model + "_torch_output.npy")));
            Path d = Files.createDirectories(dir.resolve(model));
            Row row = new Row(model, new LinkedHashMap<>());
            rows.add(row);
            for (int opset : new int[] {9, 13, 17}) {
                Path out = d.resolve("opset" + opset + ".onnx");
                String target = "ONNX " + opset;
                if (written(row, target, out, failures, "convert", "--force", src.toString(), out.toString(), "--opset", Integer.toString(opset))) {
                    pending.add(new Pending(model, target, KerasApplicationsTest.runOnnx(out, x), -1, false));
                }
            }
            Tensor nhwc = transpose(x, 0, 2, 3, 1);
            Path h5 = d.resolve("written.h5");
            if (written(row, ".h5", h5, failures, "convert", "--force", "--simplify", "--keras-explicit-padding", src.toString(), h5.toString())) {
                declaresAKerasThatTakesKeepdims(h5, failures);
                tfjsPending.add(new Pending(model, ".h5", null, jobs.size(), false));
                jobs.add(new TfjsOracle.Job(h5, null, List.of(nhwc)));
            }
            Path keras = d.resolve("written.keras");
            if (written(row, ".keras", keras, failures, "convert", "--force", "--simplify", "--keras-explicit-padding", src.toString(), keras.toString())) {
                Path onnx = d.resolve("from_keras.onnx");
                Cli.Result r = Cli.run("convert", "--force", keras.toString(), onnx.toString());
                assertThat(r.code()).as(model + " .keras -> ONNX: " + r.err()).isZero();
                pending.add(new Pending(model, ".keras", KerasApplicationsTest.runOnnx(onnx, nhwc), -1, false));
            }
            Path proto = d.resolve("written.prototxt");
            if (written(row, "Caffe", proto, failures, "convert", "--force", "--simplify", src.toString(), proto.toString())) {
                opencvJob(opencv, proto, TORCHVISION.resolve(model + "_input.npy"), d.resolve("opencv.npy"));
                cvPending.add(new Pending(model, "Caffe", null, -1, false));
            }
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> tfjs = jobs.isEmpty() ? List.of() : TfjsOracle.predict(jobs, dir.resolve("tfjs"), errors);
        List<Tensor> cv = runOpencv(opencv, dir);
        for (Pending p : pending) {
            record(rows, p.model(), p.target(), p.got(), torch.get(p.model()), failures);
        }
        for (Pending p : tfjsPending) {
            if (errors.get(p.job()) != null) {
                failures.add(p.model() + " .h5: TensorFlow.js cannot run graft's file: " + errors.get(p.job()).lines().findFirst().orElse(""));
                cell(rows, p.model(), ".h5", "written; TensorFlow.js cannot run it");
                continue;
            }
            record(rows, p.model(), p.target(), tfjs.get(p.job()).get(0), torch.get(p.model()), failures);
        }
        for (int i = 0; i < cvPending.size(); i++) {
            Pending p = cvPending.get(i);
            record(rows, p.model(), p.target(), cv.get(i), torch.get(p.model()), failures);
        }
        String table = table(rows, "vs PyTorch");
        String title = section.equals("torchvision") ? "### torchvision (PyTorch's opset 17 export, logits)\n\n"
                : "### torchvision, slow suite (PyTorch's opset 17 export, logits)\n\n";
        writeSection(section, title + table);
        System.out.println(table);
        assertThat(failures).as(table).isEmpty();
    }

    // ---- the checks ----------------------------------------------------------------------------

    /**
     * Runs graft; true when it wrote {@code out}. A refusal must be exit 3 with one line
     * ({@code graft: ...}, no stack trace) and leave no file: then the cell holds its reason.
     */
    static boolean written(Row row, String target, Path out, List<String> failures, String... args) throws IOException {
        Files.deleteIfExists(out);
        Path caffemodel = out.resolveSibling(out.getFileName().toString().replace(".prototxt", ".caffemodel"));
        Files.deleteIfExists(caffemodel);
        Cli.Result r = Cli.run(args);
        if (r.code() == 0) {
            assertThat(out).exists();
            return true;
        }
        String err = r.err().strip();
        List<String> lines = err.lines().filter(l -> l.startsWith("graft: ")).toList();
        String why = lines.isEmpty() ? err : lines.get(lines.size() - 1);
        boolean oneLine = lines.size() == 1 && err.lines().filter(l -> !l.startsWith(" ") && !l.equals("simplify:")).count() == 1;
        if (r.code() != 3 || !oneLine || err.contains("Exception") || Files.exists(out) || Files.exists(caffemodel)) {
            failures.add(row.model() + " " + target + ": not a clean refusal (exit " + r.code() + "): " + err);
        }
        row.cells().put(target, "refused: " + reason(why));
        return false;
    }

    /** The refusal's message, shortened for a table cell: its cause and the first nodes it names. */
    static String reason(String line) {
        String s = line.replaceFirst("^graft: ", "").replace("|", "/");
        return s.length() > 160 ? s.substring(0, 157) + "..." : s;
    }

    static void record(List<Row> rows, String model, String target, Tensor got, Tensor ref, List<String> failures) {
        double e = Errors.relativeToMagnitude(reshaped(got, ref), ref);
        System.out.printf(Locale.ROOT, "%s -> %s: %.2e relative%n", model, target, e);
        cell(rows, model, target, String.format(Locale.ROOT, "%.2e", e));
        if (!(e <= TOLERANCE)) {
            failures.add(model + " " + target + ": " + e);
        }
    }

    static void cell(List<Row> rows, String model, String target, String value) {
        rows.stream().filter(r -> r.model().equals(model)).findFirst().orElseThrow().cells().put(target, value);
    }

    /** OpenCV may give (N, C, 1, 1) for (N, C) logits: the same values in the reference's shape. */
    static Tensor reshaped(Tensor got, Tensor ref) {
        assertThat(got.count()).as("output size").isEqualTo(ref.count());
        return new Tensor(got.dtype(), ref.shape(), got.data());
    }

    /** TensorFlow.js on a Keras file; EfficientNet's stem by numpy first (TensorFlow.js has no Normalization). */
    static TfjsOracle.Job tfjsJob(String model, Path h5, Path xs, Tensor x) {
        if (!model.startsWith("efficientnet")) {
            return new TfjsOracle.Job(h5, null, List.of(x));
        }
        Path stem = h5.resolveSibling(h5.getFileName() + ".stem.npy");
        Path tail = h5.resolveSibling(h5.getFileName() + ".tail.json");
        Python.run(KerasApplicationsTest.ORACLE, "stem", h5.toString(), xs.toString(), stem.toString());
        Python.run(KerasApplicationsTest.ORACLE, "tail", h5.toString(), tail.toString());
        return new TfjsOracle.Job(h5, tail, List.of(npy(stem)));
    }

    static void opencvJob(ArrayNode jobs, Path proto, Path input, Path out) {
        ObjectNode job = jobs.addObject();
        job.put("prototxt", proto.toString());
        job.put("caffemodel", proto.resolveSibling(proto.getFileName().toString().replace(".prototxt", ".caffemodel")).toString());
        job.putArray("input").add(input.toString());
        job.put("out", out.toString());
    }

    static List<Tensor> runOpencv(ArrayNode jobs, Path dir) throws IOException {
        List<Tensor> r = new ArrayList<>();
        if (jobs.isEmpty()) {
            return r;
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("cv2"), "python3-opencv is not installed");
        Path manifest = dir.resolve("opencv_jobs.json");
        Files.writeString(manifest, jobs.toString());
        Python.run(TestPaths.root().resolve("tests/oracle/opencv/forward_batch.py"), manifest.toString());
        for (var j : jobs) {
            Path out = Path.of(j.path("out").asText());
            Path error = Path.of(out + ".error.txt");
            assertThat(error).as("OpenCV refused graft's Caffe files: " + (Files.exists(error) ? Files.readString(error) : "")).doesNotExist();
            r.add(npy(out));
        }
        return r;
    }

    /**
     * Every weight of the source Keras 2 {@code .h5} (model_weights/LAYER, in weight_names order)
     * equals, bit for bit, the dataset of the same index in the written {@code .keras}'s vars group
     * named after the layer; both files read with jhdf. Returns the number of weights compared.
     */
    static int sameWeights(Path sourceH5, Path keras, Path dir) throws IOException {
        Path w = dir.resolve("written.weights.h5");
        try (FileSystem zip = FileSystems.newFileSystem(keras)) {
            Files.copy(zip.getPath("model.weights.h5"), w, StandardCopyOption.REPLACE_EXISTING);
        }
        int n = 0;
        try (HdfFile src = new HdfFile(sourceH5); HdfFile out = new HdfFile(w)) {
            Map<String, Group> vars = new LinkedHashMap<>();
            collectVars(out, vars);
            Group mw = (Group) src.getChild("model_weights");
            for (Node layer : mw.getChildren().values()) {
                if (!(layer instanceof Group lg) || lg.getAttribute("weight_names") == null) {
                    continue;
                }
                String[] names = (String[]) lg.getAttribute("weight_names").getData();
                if (names == null || names.length == 0) {
                    continue;
                }
                Group v = vars.get(lg.getName());
                assertThat(v).as("vars of layer " + lg.getName() + " in " + keras).isNotNull();
                for (int i = 0; i < names.length; i++) {
                    Dataset a = (Dataset) lg.getByPath(names[i]);
                    Dataset b = (Dataset) v.getChild(Integer.toString(i));
                    assertThat(b).as(lg.getName() + " var " + i).isNotNull();
                    assertThat(b.getDimensions()).as(lg.getName() + "/" + names[i] + " shape").isEqualTo(a.getDimensions());
                    assertThat(bytes(b.getDataFlat())).as(lg.getName() + "/" + names[i] + " bits").isEqualTo(bytes(a.getDataFlat()));
                    n++;
                }
            }
        }
        return n;
    }

    private static void collectVars(Group g, Map<String, Group> into) {
        for (Node c : g.getChildren().values()) {
            if (c instanceof Group cg) {
                if (cg.getName().equals("vars") && cg.getAttribute("name") != null && cg.getAttribute("name").getData() instanceof String s) {
                    into.put(s, cg);
                }
                collectVars(cg, into);
            }
        }
    }

    /** A flat numeric array's values as little-endian bytes of its own width (float bits, not values). */
    private static byte[] bytes(Object flat) {
        if (flat instanceof float[] f) {
            ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : f) {
                b.putInt(Float.floatToRawIntBits(v));
            }
            return b.array();
        }
        if (flat instanceof long[] l) {
            ByteBuffer b = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : l) {
                b.putLong(v);
            }
            return b.array();
        }
        if (flat instanceof int[] l) {
            // Keras 3's Normalization count is int32 where Keras 2's is int64: compared as values
            ByteBuffer b = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : l) {
                b.putLong(v);
            }
            return b.array();
        }
        if (flat instanceof Number v) {
            return bytes(new long[] {v.longValue()});
        }
        throw new AssertionError("weight of type " + flat.getClass());
    }

    // ---- helpers -------------------------------------------------------------------------------

    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return new Tensor(a.dtype(), a.shape(), a.data());
    }

    /** A float32 rank-4 tensor with its axes permuted ({@code perm[i]}: the source axis of output axis i). */
    static Tensor transpose(Tensor t, int... perm) {
        long[] s = t.shape();
        long[] o = new long[4];
        for (int i = 0; i < 4; i++) {
            o[i] = s[perm[i]];
        }
        float[] v = t.toFloats();
        float[] r = new float[v.length];
        long[] stride = {s[1] * s[2] * s[3], s[2] * s[3], s[3], 1};
        int k = 0;
        for (long a = 0; a < o[0]; a++) {
            for (long b = 0; b < o[1]; b++) {
                for (long c = 0; c < o[2]; c++) {
                    for (long d = 0; d < o[3]; d++) {
                        long[] idx = {a, b, c, d};
                        long src = 0;
                        for (int i = 0; i < 4; i++) {
                            src += idx[i] * stride[perm[i]];
                        }
                        r[k++] = v[(int) src];
                    }
                }
            }
        }
        return Tensor.ofFloats(o, r);
    }

    static String table(List<Row> rows, String vs) {
        StringBuilder t = new StringBuilder("| model (" + vs + ") | " + String.join(" | ", TARGETS) + " |\n|---|");
        TARGETS.forEach(x -> t.append("---|"));
        t.append('\n');
        for (Row r : rows) {
            t.append("| ").append(r.model());
            for (String x : TARGETS) {
                t.append(" | ").append(r.cells().getOrDefault(x, ""));
            }
            t.append(" |\n");
        }
        return t.toString();
    }

    /** target/export-matrix-SECTION.md, then target/export-matrix.md as every section written so far. */
    static synchronized void writeSection(String section, String text) throws IOException {
        Path target = TestPaths.root().resolve("target");
        Files.createDirectories(target);
        Files.writeString(target.resolve("export-matrix-" + section + ".md"), text);
        StringBuilder all = new StringBuilder("## Export matrix (ExportMatrixTest)\n\n");
        for (String s : List.of("keras", "torchvision", "torchvision-slow")) {
            Path p = target.resolve("export-matrix-" + s + ".md");
            if (Files.exists(p)) {
                all.append(Files.readString(p)).append('\n');
            }
        }
        Files.writeString(target.resolve("export-matrix.md"), all);
    }

    /**
     * A written .h5 whose config has {@code keepdims} (a global pooling that feeds a 1x1 conv, as
     * torchvision's squeeze-and-excitation blocks do) declares a Keras that has the argument:
     * tf.keras added it to the global pooling layers in 2.6, and an older Keras refuses the file.
     */
    static void declaresAKerasThatTakesKeepdims(Path h5, List<String> failures) {
        try (HdfFile f = new HdfFile(h5)) {
            String config = f.getAttribute("model_config").getData().toString();
            String version = f.getAttribute("keras_version").getData().toString();
            int[] v = java.util.Arrays.stream(version.split("\\.")).mapToInt(Integer::parseInt).toArray();
            boolean takes = v[0] > 2 || (v[0] == 2 && v[1] >= 6);
            if (config.contains("\"keepdims\"") && !takes) {
                failures.add(h5 + ": writes keepdims but declares keras_version " + version + ", which has no such argument");
            }
        }
    }
}
