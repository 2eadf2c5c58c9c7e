package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.io.Npy;
import graft.ir.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * TensorFlow.js (tests/oracle/tfjs/facts.mjs) as the oracle for what Keras says about a model:
 * {@code model.layers} in order, each layer's trainable and non-trainable weight counts, the
 * model totals, output shapes; optionally after cutting it at a layer and appending head layers
 * with given weights, and its predictions on NHWC inputs. Many jobs per Node start.
 */
final class TfjsFacts {
    /** A head layer as Keras names it ({@code Dense}, {@code GlobalAveragePooling2D}), its config and weights. */
    record Head(String className, Map<String, Object> config, List<Tensor> weights) {
    }

    record Job(Path model, Path config, String cut, List<Head> head, List<Tensor> inputs) {
        static Job of(Path model, Path config) {
            return new Job(model, config, null, List.of(), List.of());
        }
    }

    record Layer(String name, String className, long trainable, long nonTrainable) {
    }

    /** What TensorFlow.js reports; {@code error} is set (and the rest empty) when it cannot load the model. */
    record Facts(String error, String className, List<Layer> layers, long trainable, long nonTrainable, List<List<Long>> outputShapes,
            List<Tensor> outputs) {
    }

    private TfjsFacts() {
    }

    static List<Facts> run(List<Job> jobs, Path work) {
        TfjsOracle.assumeInstalled();
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
                if (j.cut() != null) {
                    o.put("cut", j.cut());
                }
                o.put("out", d.resolve("out").toString());
                if (!j.head().isEmpty()) {
                    ArrayNode hs = o.putArray("head");
                    for (int h = 0; h < j.head().size(); h++) {
                        Head head = j.head().get(h);
                        ObjectNode ho = hs.addObject();
                        ho.put("class_name", head.className());
                        ho.set("config", json.valueToTree(head.config()));
                        ArrayNode ws = ho.putArray("weights");
                        for (int k = 0; k < head.weights().size(); k++) {
                            ws.add(npy(d.resolve("head" + h + "_w" + k + ".npy"), head.weights().get(k)));
                        }
                    }
                }
                ArrayNode ins = o.putArray("inputs");
                for (int k = 0; k < j.inputs().size(); k++) {
                    ins.add(npy(d.resolve("input_" + k + ".npy"), j.inputs().get(k)));
                }
            }
            Path manifest = work.resolve("jobs.json");
            Files.writeString(manifest, list.toString());
            TfjsOracle.node("facts.mjs", manifest.toString());
            List<Facts> r = new ArrayList<>();
            for (int i = 0; i < jobs.size(); i++) {
                Path d = work.resolve("job" + i + "/out");
                if (Files.exists(d.resolve("error.txt"))) {
                    r.add(new Facts(Files.readString(d.resolve("error.txt")), null, List.of(), 0, 0, List.of(), List.of()));
                    continue;
                }
                JsonNode f = json.readTree(d.resolve("facts.json").toFile());
                List<Layer> layers = new ArrayList<>();
                for (JsonNode l : f.get("layers")) {
                    layers.add(new Layer(l.get("name").asText(), l.get("class_name").asText(), l.get("trainable_params").asLong(),
                            l.get("non_trainable_params").asLong()));
                }
                List<List<Long>> shapes = new ArrayList<>();
                for (JsonNode s : f.get("output_shapes")) {
                    List<Long> dims = new ArrayList<>();
                    s.forEach(x -> dims.add(x.isNull() ? -1L : x.asLong()));
                    shapes.add(dims);
                }
                List<Tensor> outs = TfjsOracle.outputs(d);
                r.add(new Facts(null, f.get("class_name").asText(), layers, f.get("trainable_params").asLong(),
                        f.get("non_trainable_params").asLong(), shapes, outs));
            }
            return r;
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static String npy(Path p, Tensor t) {
        Npy.write(p, t.dtype(), t.shape(), t.data(), true);
        return p.toString();
    }
}
