package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.UnsupportedModelException;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.keras.KerasCorpusTest;
import graft.keras.TfjsOracle;
import graft.testing.Python;
import graft.testing.TestPaths;
import graft.validate.Feeds;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keras -> Caffe: every Keras file of the corpus whose layers Caffe has, plus the reduced-width
 * Keras VGG16 fixture (fixtures/keras/make_vgg16_keras.py), written by graft's Caffe writer, run
 * by OpenCV's Caffe forward (an implementation graft did not write) and compared with
 * TensorFlow.js on the source {@code .h5}, within 1e-5 relative to the output's magnitude. A
 * model ending in softmax is compared on its logits: the final Softmax node is taken off the
 * graph before writing and the final layer's activation set to linear in the architecture
 * TensorFlow.js builds. The Caffe input is NCHW (the Keras importer's NHWC Transpose became the
 * blob layout), so OpenCV is fed the same numbers transposed. The table goes to
 * target/keras-caffe-table.md.
 */
class KerasToCaffeTest {
    static final double TOLERANCE = 1e-5;

    record Case(Path model, Path config, String name) {
    }

    static List<Case> cases() throws IOException {
        List<Case> r = new ArrayList<>();
        for (KerasCorpusTest.Case c : KerasCorpusTest.cases()) {
            r.add(new Case(c.model(), c.config(), c.name()));
        }
        Path dir = TestPaths.root().resolve("target/models/keras-vgg16");
        r.add(new Case(TestPaths.fixtures().resolve("keras/same_stride1.h5"), null, "fixture: same_stride1.h5 (make_same_padding.py)"));
        Path small = dir.resolve("vgg16_small.h5");
        if (!Files.exists(small)) {
            Files.createDirectories(dir);
            Python.run(TestPaths.fixtures().resolve("keras/make_vgg16_keras.py"), small.toString(), "--width-div", "16", "--fc", "64",
                    "--classes", "10");
        }
        r.add(new Case(small, null, "fixture: vgg16_small.h5 (make_vgg16_keras.py --width-div 16 --fc 64 --classes 10)"));
        return r;
    }

    static String modelConfig(Case c) throws IOException {
        if (c.config() != null) {
            return Files.readString(c.config());
        }
        try (io.jhdf.HdfFile f = new io.jhdf.HdfFile(c.model())) {
            Object d = f.getAttribute("model_config").getData();
            return d instanceof String s ? s : ((String[]) d)[0];
        }
    }

    /** The architecture with {@code layer}'s softmax activation made linear; null when the layer has no such field. */
    static String linearLast(String config, String layer) throws IOException {
        ObjectMapper json = new ObjectMapper();
        JsonNode root = json.readTree(config);
        JsonNode cfg = root.path("config");
        JsonNode layers = cfg.isArray() ? cfg : cfg.path("layers");
        for (JsonNode l : layers) {
            JsonNode lc = l.path("config");
            if (lc.path("name").asText().equals(layer) && "softmax".equals(lc.path("activation").asText())) {
                ((ObjectNode) lc).put("activation", "linear");
                return json.writeValueAsString(root);
            }
        }
        return null;
    }

    static Tensor nhwcToNchw(Tensor t) {
        long[] s = t.shape();
        int n = (int) s[0];
        int h = (int) s[1];
        int w = (int) s[2];
        int c = (int) s[3];
        ByteBuffer in = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocateDirect(n * c * h * w * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < c; k++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out.putFloat(in.getFloat(((((b * h) + y) * w + x) * c + k) * 4));
                    }
                }
            }
        }
        out.flip();
        return new Tensor(t.dtype(), new long[]{n, c, h, w}, out);
    }

    @Test
    void kerasFilesCaffeCanHoldMatchTensorFlowJsOnTheSourceWhenRunByOpenCv() throws IOException {
        TfjsOracle.assumeInstalled();
        org.junit.jupiter.api.Assumptions.assumeTrue(Python.has("cv2"), "python3-opencv is not installed");
        Path dir = TestPaths.scratch("keras-to-caffe");
        Map<String, String> outcome = new LinkedHashMap<>();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<String> jobNames = new ArrayList<>();
        List<Path> opencvOut = new ArrayList<>();
        List<Boolean> logits = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        var opencvJobs = json.createArrayNode();
        int i = 0;
        for (Case c : cases()) {
            i++;
            Options o = Options.none().set("config", c.config());
            Graph g;
            try {
                g = new graft.keras.KerasFormat().read(c.model(), o);
            } catch (RuntimeException e) {
                outcome.put(c.name(), "not read: " + e.getMessage());
                continue;
            }
            if (g.inputs().size() != 1 || g.outputs().size() != 1) {
                outcome.put(c.name(), "not compared: " + g.inputs().size() + " inputs, " + g.outputs().size() + " outputs");
                continue;
            }
            Map<String, Tensor> feeds = Feeds.make(g, Map.of(), 7, new Feeds.Sizes(1, null));
            Tensor x = feeds.values().iterator().next();
            Path config = null;
            Node last = g.producer(g.outputs().get(0).name());
            boolean isLogits = false;
            if (last != null && last.opType().equals("Softmax")) {
                String linear = linearLast(modelConfig(c), last.layer());
                if (linear != null) {
                    config = dir.resolve(i + "_linear.json");
                    Files.writeString(config, linear);
                    g.nodes().remove(last);
                    g.outputs().set(0, new Value(last.input(0), g.type(last.input(0))));
                    isLogits = true;
                }
            }
            if (config == null) {
                config = c.config();
            }
            Path prototxt = dir.resolve(i + ".prototxt");
            try {
                new CaffeFormat().write(g, prototxt, Options.none().set("force", true));
            } catch (UnsupportedModelException e) {
                outcome.put(c.name(), "refused: " + e.getMessage().replaceAll("\\s+", " "));
                continue;
            }
            Path in = dir.resolve(i + "_nchw.npy");
            Tensor nchw = x.shape().length == 4 ? nhwcToNchw(x) : x;
            Npy.write(in, nchw.dtype(), nchw.shape(), nchw.data(), true);
            Path out = dir.resolve(i + "_opencv.npy");
            ObjectNode job = opencvJobs.addObject();
            job.put("prototxt", prototxt.toString());
            job.put("caffemodel", dir.resolve(i + ".caffemodel").toString());
            job.putArray("input").add(in.toString());
            job.put("out", out.toString());
            jobs.add(new TfjsOracle.Job(c.model(), config, List.of(x)));
            jobNames.add(c.name());
            opencvOut.add(out);
            logits.add(isLogits);
        }
        Path manifest = dir.resolve("opencv_jobs.json");
        Files.writeString(manifest, opencvJobs.toString());
        Python.run(TestPaths.root().resolve("tests/oracle/opencv/forward_batch.py"), manifest.toString());
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> tfjs = TfjsOracle.predict(jobs, dir.resolve("tfjs"), errors);
        List<String> failed = new ArrayList<>();
        for (int k = 0; k < jobs.size(); k++) {
            String name = jobNames.get(k);
            Path out = opencvOut.get(k);
            if (errors.get(k) != null) {
                outcome.put(name, "written; TensorFlow.js cannot run the source: " + errors.get(k).lines().findFirst().orElse(""));
                continue;
            }
            if (!Files.exists(out)) {
                String why = Files.exists(Path.of(out + ".error.txt")) ? Files.readString(Path.of(out + ".error.txt")) : "no output";
                outcome.put(name, "written; OpenCV refused it: " + why.lines().findFirst().orElse(""));
                failed.add(name + ": OpenCV refused graft's Caffe files: " + why);
                continue;
            }
            Tensor cv = CaffeOracle.npy(out);
            Tensor want = tfjs.get(k).get(0);
            if (want.shape().length == 4) {
                java.nio.FloatBuffer f = graft.data.InputLayout.toNhwc(cv.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer(),
                        cv.shape());
                cv = new Tensor(cv.dtype(), graft.data.InputLayout.nhwcShape(cv.shape()), toBytes(f));
            }
            double err = CaffeOracle.relError(cv, want);
            outcome.put(name, String.format("%.1e (%s)", err, logits.get(k) ? "logits" : "output as the model ends"));
            if (!(err < TOLERANCE)) {
                failed.add(name + ": " + err);
            }
        }
        StringBuilder table = new StringBuilder("| Keras file | Caffe via graft, OpenCV vs TensorFlow.js on the source |\n|---|---|\n");
        outcome.forEach((k, v) -> table.append("| ").append(k).append(" | ").append(v.replace("|", "/")).append(" |\n"));
        System.out.println(table);
        Files.writeString(TestPaths.root().resolve("target/keras-caffe-table.md"), table);
        assertThat(failed).as(table.toString()).isEmpty();
        for (String must : List.of("fullconfigs/cnn/cnn_batch_norm.h5", "fixture: vgg16_small.h5", "fixture: same_stride1.h5")) {
            assertThat(outcome.entrySet()).as(table.toString())
                    .anyMatch(e -> e.getKey().startsWith(must) && Character.isDigit(e.getValue().charAt(0)));
        }
    }

    /** 'same' at stride 2 on an even size pads 0 before and 1 after: Caffe cannot, and the refusal names the layer and why. */
    @Test
    void kerasSameThatCaffeCannotExpressIsRefusedByName() {
        Path out = TestPaths.scratch("keras-same-caffe").resolve("s2.prototxt");
        graft.testing.Cli.Result r = graft.testing.Cli.run("convert", TestPaths.fixtures().resolve("keras/same_stride2.h5").toString(), out.toString());
        assertThat(r.code()).as(r.out()).isEqualTo(3);
        assertThat(r.err()).contains("Conv 'conv/conv'").contains("Keras/TensorFlow 'same' padding").contains("asymmetric padding");
        assertThat(out).doesNotExist();
    }

    /** The Caffe input is NCHW: the written prototxt says so, graft reads it back, and images are fed channels-first. */
    @Test
    void caffeFromKerasDeclaresItsNchwLayout() throws IOException {
        Path out = TestPaths.scratch("keras-layout-caffe").resolve("s1.prototxt");
        graft.testing.Cli.Result r = graft.testing.Cli.run("convert", TestPaths.fixtures().resolve("keras/same_stride1.h5").toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readString(out)).startsWith("# graft-metadata preprocess.layout=NCHW\n");
        Graph g = new CaffeFormat().read(out, Options.none().set("weights", out.resolveSibling("s1.caffemodel")));
        assertThat(g.metadata()).containsEntry("preprocess.layout", "NCHW");
        assertThat(g.inputs().get(0).type().shape().toString()).isEqualTo("(1, 3, 8, 8)");
        assertThat(graft.data.InputLayout.channelsLast(g)).isFalse();
        Graph keras = new graft.keras.KerasFormat().read(TestPaths.fixtures().resolve("keras/same_stride1.h5"), Options.none());
        assertThat(graft.data.InputLayout.channelsLast(keras)).isTrue();
    }

    static ByteBuffer toBytes(java.nio.FloatBuffer f) {
        ByteBuffer b = ByteBuffer.allocateDirect(f.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f.duplicate());
        return b;
    }
}
