package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.GraftException;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.Value;
import graft.keras.GraphBuilder.Layout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Keras file into the IR (see the package documentation for the layout rules). Every
 * unsupported layer is listed in one refusal before any weight is read; a Lambda layer is
 * refused by its class name alone, its marshalled bytecode is never looked at.
 *
 * <p>Stateless; each call confines its work to the calling thread. The returned graph's
 * weights are views over jhdf's read-only mapping of the file (decoded copies only for
 * chunked, compressed or big-endian datasets, and for a .keras zip, whose weights file is
 * read into memory once); they stay valid after the file handle is closed.
 */
public final class KerasImporter {
    private KerasImporter() {
    }

    /** Reads {@code file}; {@code configFile} is the architecture JSON of a weights-only file, or null. */
    public static Graph read(Path file, Path configFile) {
        try (KerasSource src = KerasSource.open(file, configFile)) {
            graft.io.Timing.mark("keras read: hdf5 opened, config parsed");
            return build(src);
        } catch (GraftException e) {
            throw e;
        } catch (RuntimeException e) {
            // What jhdf (or jackson) raises reading the file is the file's fault; anything else is graft's own bug (exit 4).
            if (!KerasSource.libraryFault(e)) {
                throw e;
            }
            throw new MalformedModelException(file, "cannot be read as a Keras model (" + KerasSource.oneLine(e) + ")", e);
        }
    }

    /** lr_mult/decay_mult graft wrote beside a Keras model (root attribute); trainable stays Keras's own. */
    private static void multipliers(KerasSource src, Graph g) {
        String json = src.hdf == null ? null : KerasSource.stringAttr(src.file, src.hdf, KerasExporter.MULTIPLIERS);
        if (json == null) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new MalformedModelException(src.file, "attribute '" + KerasExporter.MULTIPLIERS + "' is not JSON");
        }
        java.util.Set<String> layers = new java.util.HashSet<>(g.layers());
        root.fields().forEachRemaining(e -> {
            if (!layers.contains(e.getKey())) {
                return;
            }
            List<Float> lr = new ArrayList<>();
            List<Float> decay = new ArrayList<>();
            e.getValue().path("lr_mult").forEach(v -> lr.add((float) v.asDouble()));
            e.getValue().path("decay_mult").forEach(v -> decay.add((float) v.asDouble()));
            g.training().put(e.getKey(), new LayerTraining(g.trainingOf(e.getKey()).trainable(), lr, decay));
        });
    }

    private static Graph build(KerasSource src) {
        KerasConfig cfg = KerasConfig.parse(src.file, src.config);
        graft.error.TestFault.at("keras-import");
        refuseUnsupported(src.file, cfg);
        Graph g = new Graph(cfg.name());
        g.opsets().put("", 17L);
        if (src.kerasVersion != null) {
            g.metadata().put("source.keras_version", src.kerasVersion);
        }
        if (src.backend != null) {
            g.metadata().put("source.backend", src.backend);
        }
        g.metadata().put("source.keras_class", cfg.className());
        LayerClasses.record(g, cfg);
        boolean theano = "theano".equals(src.backend);
        if (src.backend == null && src.kerasVersion != null && src.kerasVersion.startsWith("1.") && src.theanoWeightNames()) {
            // Keras 1 wrote no backend attribute; TensorFlow variables are always named "...:0", Theano's never are.
            theano = true;
            g.metadata().put("source.backend", "theano (from the weight names)");
        }
        GraphBuilder b = new GraphBuilder(g);
        LayerReader mapper = new LayerReader(b, src, src.file, theano,
                src.keras3 || src.kerasVersion != null && src.kerasVersion.startsWith("3."));
        Map<String, List<String>> consumers = new HashMap<>();
        for (KerasConfig.Layer l : cfg.layers()) {
            for (String in : l.inbound()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(l.cls());
            }
        }
        Map<String, String> valueOf = new HashMap<>();
        List<KerasConfig.Layer> todo = new ArrayList<>(cfg.layers());
        while (!todo.isEmpty()) {
            boolean progress = false;
            for (var it = todo.iterator(); it.hasNext(); ) {
                KerasConfig.Layer l = it.next();
                if (!l.inbound().stream().allMatch(valueOf::containsKey)) {
                    continue;
                }
                KerasLayer kind = KerasLayer.of(l.cls());
                if (kind == KerasLayer.INPUT_LAYER) {
                    valueOf.put(l.name(), input(src.file, g, b, l, cfg.layers().stream().filter(x -> x.cls().equals("InputLayer")).count() > 1));
                } else {
                    List<String> in = l.inbound().stream().map(valueOf::get).toList();
                    if (in.isEmpty()) {
                        throw new MalformedModelException(src.file, "layer '" + l.name() + "' (" + l.cls() + ") has no input");
                    }
                    boolean onlyDense = consumers.getOrDefault(l.name(), List.of()).stream().allMatch("Dense"::equals)
                            && !cfg.outputs().contains(l.name());
                    valueOf.put(l.name(), mapper.map(kind, l, in, onlyDense));
                }
                if (!l.trainable()) {
                    g.training().put(l.name(), LayerTraining.frozen());
                }
                it.remove();
                progress = true;
            }
            if (!progress) {
                throw new MalformedModelException(src.file, "layer '" + todo.get(0).name() + "' reads layers that do not exist or form a cycle: "
                        + todo.get(0).inbound());
            }
        }
        // what each rank-4 value is in Keras (NHWC for a channels_last layer), for features and cuts of mixed models
        ShapeInference.run(g);
        for (int i = 0; i < g.nodes().size(); i++) {
            Node n = g.nodes().get(i);
            graft.ir.TensorType t = g.type(n.output(0));
            if (n.outputs().size() == 1 && t != null && t.shape() != null && t.shape().rank() == 4) {
                g.nodes().set(i, graft.ir.SourceLayout.record(n, b.layout(n.output(0)) == Layout.NCHW_OF_NHWC));
            }
        }
        for (String out : cfg.outputs()) {
            String v = valueOf.get(out);
            if (v == null) {
                throw new MalformedModelException(src.file, "output layer '" + out + "' is not a layer of the model");
            }
            if (b.rank(v) == 4 && b.layout(v) == Layout.NCHW_OF_NHWC) {
                // The graph output keeps the Keras layer's name and Keras's NHWC layout.
                if (v.equals(out)) {
                    String inner = b.fresh(out + "/nchw");
                    rename(g, v, inner);
                    v = inner;
                }
                b.release(out);
                v = b.node(Op.TRANSPOSE, out, out, List.of(v), java.util.Map.of("perm", Attr.ints(0, 2, 3, 1)), Layout.KERAS);
            } else if (!v.equals(out) && !isProduced(g, out)) {
                rename(g, v, out);
                v = out;
            }
            g.outputs().add(new Value(v, null));
        }
        graft.io.Timing.mark("keras read: layers mapped");
        multipliers(src, g);
        ShapeInference.run(g);
        GraphValidator.check(g);
        return g;
    }

    /** Lists every layer graft cannot convert (class unknown, or a config it cannot express), all at once. */
    static void refuseUnsupported(Path file, KerasConfig cfg) {
        List<String> bad = new ArrayList<>();
        for (KerasConfig.Layer l : cfg.layers()) {
            KerasLayer kind = KerasLayer.of(l.cls());
            String why = kind == null ? null : unsupportedConfig(kind, l.cfg());
            if (kind == null) {
                bad.add(l.name() + " (" + l.cls() + ")");
            } else if (why != null) {
                bad.add(l.name() + " (" + l.cls() + ": " + why + ")");
            }
        }
        if (!bad.isEmpty()) {
            throw new UnsupportedModelException("model '" + file + "' (model_config): " + bad.size() + " layer" + (bad.size() == 1 ? "" : "s")
                    + " graft cannot convert: " + String.join(", ", bad) + ". Replace or remove them in Keras and save again", bad);
        }
    }

    private static String unsupportedConfig(KerasLayer kind, JsonNode c) {
        String act = c.path("activation").asText("linear");
        if (c.has("activation") && !LayerReader.knownActivation(act)) {
            return "activation '" + act + "'";
        }
        return switch (kind) {
            case CONV2D_TRANSPOSE -> c.path("output_padding").isNull() || c.path("output_padding").isMissingNode() ? null : "explicit output_padding";
            case UP_SAMPLING2D -> c.path("interpolation").asText("nearest").equals("nearest") ? null : "interpolation '" + c.path("interpolation").asText() + "'";
            case RELU -> c.path("threshold").asDouble(0) != 0 && (c.path("negative_slope").asDouble(0) != 0 || c.path("max_value").isNumber())
                    ? "threshold with negative_slope or max_value" : null;
            case SOFTMAX -> c.path("axis").isArray() ? "several axes" : null;
            case RESCALING -> c.path("scale").isNumber() && (c.path("offset").isNumber() || c.path("offset").isMissingNode())
                    ? null : "scale or offset other than one number";
            case NORMALIZATION -> Preprocessing.unsupported(c);
            default -> null;
        };
    }

    private static String input(Path file, Graph g, GraphBuilder b, KerasConfig.Layer l, boolean several) {
        JsonNode shape = KerasConfig.batchShape(l.cfg());
        if (shape == null) {
            throw new MalformedModelException(file, "input layer '" + l.name() + "' declares no batch_input_shape");
        }
        List<Dim> dims = new ArrayList<>();
        String[] names = shape.size() == 4 ? new String[] {"N", "H", "W", "C"} : null;
        for (int i = 0; i < shape.size(); i++) {
            JsonNode d = shape.get(i);
            if (d.isNull()) {
                String sym = i == 0 ? "N" : names != null ? names[i] : "d" + i;
                dims.add(Dim.sym(several && i > 0 ? l.name() + "_" + sym : sym));
            } else {
                dims.add(Dim.of(d.asLong()));
            }
        }
        String name = b.fresh(l.name());
        g.inputs().add(new Value(name, GraphBuilder.floatType(new Shape(dims))));
        b.setLayout(name, Layout.KERAS);
        return name;
    }

    private static boolean isProduced(Graph g, String value) {
        return g.inputs().stream().anyMatch(v -> v.name().equals(value)) || g.producer(value) != null || g.initializer(value) != null;
    }

    static void rename(Graph g, String from, String to) {
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (n.outputs().contains(from) || n.inputs().contains(from)) {
                List<String> in = n.inputs().stream().map(s -> s.equals(from) ? to : s).toList();
                List<String> out = n.outputs().stream().map(s -> s.equals(from) ? to : s).toList();
                Node m = n.withInputs(in).withOutputs(out);
                nodes.set(i, n.name().equals(from) ? m.withName(to, n.layer()) : m);
            }
        }
        g.types().remove(from);
    }
}
