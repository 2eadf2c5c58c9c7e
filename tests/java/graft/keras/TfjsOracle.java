package graft.keras;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.io.Npy;
import graft.ir.Tensor;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * TensorFlow.js (tests/oracle/tfjs, CPU backend) as the Keras oracle: builds each model from
 * its model_config, loads the h5 weights with h5wasm and predicts, many models per Node start.
 */
public final class TfjsOracle {
    static final Path DIR = TestPaths.root().resolve("tests/oracle/tfjs");

    /** One prediction: model file, optional architecture JSON, inputs (NHWC as Keras takes them), optional layer whose output is wanted. */
    public record Job(Path model, Path config, List<Tensor> inputs, String layer) {
        public Job(Path model, Path config, List<Tensor> inputs) {
            this(model, config, inputs, null);
        }
    }

    private TfjsOracle() {
    }

    public static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isDirectory(DIR.resolve("node_modules/@tensorflow/tfjs")),
                "TensorFlow.js oracle not installed (tests/run runs npm ci in tests/oracle/tfjs)");
    }

    /** Runs every job; returns per job its outputs, or null with the oracle's error in {@code errors}. */
    public static List<List<Tensor>> predict(List<Job> jobs, Path work, List<String> errors) {
        assumeInstalled();
        ObjectMapper json = new ObjectMapper();
        ArrayNode list = json.createArrayNode();
        try {
            Files.createDirectories(work);
            for (int i = 0; i < jobs.size(); i++) {
                Job j = jobs.get(i);
                Path d = work.resolve("job" + i);
                Files.createDirectories(d);
                ObjectNode o = list.addObject();
                o.put("model", j.model().toAbsolutePath().toString());
                if (j.config() != null) {
                    o.put("config", j.config().toAbsolutePath().toString());
                }
                o.put("out", d.resolve("out").toString());
                if (j.layer() != null) {
                    o.put("layer", j.layer());
                }
                ArrayNode ins = o.putArray("inputs");
                for (int k = 0; k < j.inputs().size(); k++) {
                    Tensor t = j.inputs().get(k);
                    Path p = d.resolve("input_" + k + ".npy");
                    Npy.write(p, t.dtype(), t.shape(), t.data(), true);
                    ins.add(p.toString());
                }
            }
            Path manifest = work.resolve("jobs.json");
            Files.writeString(manifest, list.toString());
            node("predict.mjs", "--batch", manifest.toString());
            List<List<Tensor>> r = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                Path d = work.resolve("job" + i + "/out");
                if (Files.exists(d.resolve("error.txt"))) {
                    errors.add(Files.readString(d.resolve("error.txt")));
                    r.add(null);
                    continue;
                }
                errors.add(null);
                r.add(outputs(d));
            }
            return r;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs {@code node SCRIPT ARGS...} in the oracle's folder; its output becomes the failure message. */
    static void node(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("node", DIR.resolve(script).toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(DIR.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("tfjs oracle " + script + " failed: " + out);
        }
    }

    /** A job folder's output_0.npy, output_1.npy ... in order. */
    static List<Tensor> outputs(Path dir) {
        List<Tensor> outs = new ArrayList<>();
        for (int k = 0; Files.exists(dir.resolve("output_" + k + ".npy")); k++) {
            Npy.Array a = Npy.read(dir.resolve("output_" + k + ".npy"));
            outs.add(new Tensor(a.dtype(), a.shape(), a.data()));
        }
        return outs;
    }

    /** max |a-b| / max |ref|: the error relative to the output's magnitude. */
    public static double relError(Tensor a, Tensor ref) {
        return graft.testing.Errors.relativeToMagnitude(a, ref);
    }

    static Map<String, Tensor> feeds(List<String> names, List<Tensor> ts) {
        Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), ts.get(i));
        }
        return m;
    }
}
