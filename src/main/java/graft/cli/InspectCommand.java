package graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import graft.ir.Graph;
import graft.ir.LayerTable;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print a model's layers as Keras model.summary() does: index, layer, ops, output shape, parameters, trainable.",
        footer = {"", "Examples:", "  graft inspect fixtures/onnx/small_vgg.onnx", "  graft inspect vgg16.h5 --json",
                "  graft inspect vgg16.onnx --html vgg16.html   (the layer graph; open it in a browser)",
                "  graft inspect model.onnx --textconv   (what git diff shows, after graft init-git)",
                "  graft inspect deploy.prototxt --weights bvlc_reference_caffenet.caffemodel"})
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model file (.onnx, .h5, .keras, .prototxt, .caffemodel).")
    Path model;

    @Mixin
    InputOptions input = new InputOptions();

    @Option(names = "--json", description = "Print JSON for machines instead of the table.")
    boolean json;

    @Option(names = "--textconv", description = {"Print the model as stable line-oriented text for git diff: one line per layer "
            + "(ops, attributes, output shape, parameters, training state), one per weight (dtype, shape, SHA-256, min/max/mean/std), "
            + "then inputs, outputs and metadata. The textconv of the diff driver `graft init-git` sets up; no notices on stderr."})
    boolean textconv;

    @Option(names = "--svg", paramLabel = "FILE", description = "Also draw the layer graph as SVG (ELK layered layout, top to bottom; "
            + "one box per layer: name, ops, output shape; frozen layers grey and dashed).")
    Path svg;

    @Option(names = "--html", paramLabel = "FILE", description = "Also write one self-contained HTML page: the SVG with pan/zoom, "
            + "and a click on a layer shows its row (ops, shape, parameters, trainable, lr_mult).")
    Path html;

    @Option(names = "--force", description = "Replace an existing --svg/--html file.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (textconv) {
            // git shows a textconv's stderr beside the diff: the LFS read-through notice would be noise there
            graft.io.GitLfs.notices(new PrintWriter(java.io.Writer.nullWriter()));
        }
        graft.picture.Pictures.checkTargets(svg, html, force, List.of(model));
        Graph g = ModelLoader.load(model, input.from, input.toOptions(), true);
        PrintWriter out = spec.commandLine().getOut();
        if (textconv) {
            graft.validate.ModelText.write(g, out);
            return 0;
        }
        ModelLoader.notices(g, spec.commandLine().getErr());
        List<LayerTable.Row> rows = LayerTable.of(g);
        if (svg != null || html != null) {
            graft.picture.GraphLayout.Result pic = graft.picture.Pictures.model(g);
            String title = "graft inspect " + model.getFileName();
            graft.picture.Pictures.write(pic, title, false, svg, html, force, List.of(model));
        }
        if (json) {
            out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(g, rows)));
        } else {
            printTable(g, rows, out);
        }
        out.flush();
        return 0;
    }

    static Map<String, Object> toJson(Graph g, List<LayerTable.Row> rows) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", g.name());
        m.put("opsets", g.opsets());
        m.put("inputs", values(g, g.inputs()));
        m.put("outputs", values(g, g.outputs()));
        List<Map<String, Object>> layers = new ArrayList<>();
        for (LayerTable.Row r : rows) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("index", r.index());
            l.put("name", r.layer());
            l.put("ops", r.ops());
            l.put("output_shape", r.output());
            l.put("params", r.params());
            l.put("trainable_params", r.trainableParams());
            l.put("non_trainable_params", r.nonTrainableParams());
            l.put("trainable", r.trainable());
            if (!r.training().lrMult().isEmpty()) {
                l.put("lr_mult", r.training().lrMult());
            }
            if (!r.training().decayMult().isEmpty()) {
                l.put("decay_mult", r.training().decayMult());
            }
            layers.add(l);
        }
        m.put("layer_numbering", LayerTable.numbering(g).key);
        m.put("layers", layers);
        long total = rows.stream().mapToLong(LayerTable.Row::params).sum();
        long trainable = rows.stream().mapToLong(LayerTable.Row::trainableParams).sum();
        m.put("total_params", total);
        m.put("trainable_params", trainable);
        m.put("non_trainable_params", total - trainable);
        m.put("weight_bytes", g.initializers().values().stream().mapToLong(Weight::byteSize).sum());
        m.put("metadata", g.metadata());
        return m;
    }

    private static List<Map<String, Object>> values(Graph g, List<Value> vs) {
        List<Map<String, Object>> r = new ArrayList<>();
        for (Value v : vs) {
            TensorType t = g.type(v.name()) != null ? g.type(v.name()) : v.type();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", v.name());
            m.put("type", t == null ? "?" : t.dtype().lowerName());
            m.put("shape", t == null || t.shape() == null ? "?" : t.shape().toString());
            r.add(m);
        }
        return r;
    }

    static void printTable(Graph g, List<LayerTable.Row> rows, PrintWriter out) {
        Map<String, String> meta = g.metadata();
        out.printf("Model: %s  (%s%s)%n", g.name(), meta.getOrDefault(ModelLoader.READ_FORMAT, "?"),
                g.opsets().containsKey("") ? ", opset " + g.opsets().get("") : "");
        for (String key : List.of("source.keras_version", "source.backend", "source.producer", "graft.source", "graft.weights")) {
            if (meta.containsKey(key)) {
                out.printf("  %-22s %s%n", key.substring(key.indexOf('.') + 1).replace('_', ' ') + ":", meta.get(key));
            }
        }
        for (Value v : g.inputs()) {
            out.printf("  input:  %-20s %s%n", v.name(), g.type(v.name()) != null ? g.type(v.name()) : v.type());
        }
        for (Value v : g.outputs()) {
            out.printf("  output: %-20s %s%n", v.name(), g.type(v.name()) != null ? g.type(v.name()) : v.type());
        }
        out.printf("  layer numbers: %s%n", LayerTable.numbering(g).text);
        int nameW = Math.max(12, rows.stream().mapToInt(r -> r.layer().length()).max().orElse(0));
        int opsW = Math.max(8, Math.min(40, rows.stream().mapToInt(r -> r.ops().length()).max().orElse(0)));
        int shapeW = Math.max(14, rows.stream().mapToInt(r -> r.output().length()).max().orElse(0));
        String fmt = "%4s  %-" + nameW + "s  %-" + opsW + "s  %-" + shapeW + "s  %14s  %s%n";
        String rule = "-".repeat(4 + 2 + nameW + 2 + opsW + 2 + shapeW + 2 + 14 + 2 + 10);
        out.println(rule);
        out.printf(fmt, "#", "Layer", "Op(s)", "Output shape", "Param #", "Trainable");
        out.println(rule.replace('-', '='));
        long total = 0;
        long trainable = 0;
        for (LayerTable.Row r : rows) {
            String train = r.params() == 0 ? "" : r.trainable() ? "yes" : "no";
            if (!r.training().lrMult().isEmpty()) {
                train += " lr_mult " + r.training().lrMult().stream().map(ModelLoaderFormat::num).reduce((a, b) -> a + "/" + b).orElse("");
            }
            out.printf(fmt, r.index(), r.layer(), r.ops(), r.output(), String.format(Locale.ROOT, "%,d", r.params()), train);
            total += r.params();
            trainable += r.trainableParams();
        }
        out.println(rule);
        long bytes = g.initializers().values().stream().mapToLong(Weight::byteSize).sum();
        out.printf(Locale.ROOT, "Total params: %,d (%s)%n", total, human(bytes));
        out.printf(Locale.ROOT, "Trainable params: %,d%n", trainable);
        out.printf(Locale.ROOT, "Non-trainable params: %,d%n", total - trainable);
        List<String> pre = new ArrayList<>();
        meta.forEach((k, v) -> {
            if (k.startsWith("preprocess.")) {
                pre.add(k.substring(11) + "=" + v);
            }
        });
        if (!pre.isEmpty()) {
            out.println("Preprocessing: " + String.join(", ", pre));
        }
        String nonFinite = graft.io.FiniteWeights.summary(g);
        if (nonFinite != null) {
            out.println(nonFinite);
        }
        if (meta.containsKey("graft.edits")) {
            out.println("Edits: " + meta.get("graft.edits").replace("\n", "; "));
        }
    }

    static String human(long bytes) {
        if (bytes >= 1 << 20) {
            return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
        }
        if (bytes >= 1 << 10) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return bytes + " bytes";
    }

    /** Number formatting shared by the table. */
    static final class ModelLoaderFormat {
        private ModelLoaderFormat() {
        }

        static String num(float f) {
            return f == Math.rint(f) ? Long.toString((long) f) : Float.toString(f);
        }
    }
}
