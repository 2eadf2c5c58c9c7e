package graft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import graft.data.Samples;
import graft.deploy.Calibration;
import graft.deploy.CalibrationData;
import graft.deploy.Quantize;
import graft.error.UsageException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.TensorType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Post-training INT8 quantization to ONNX in QDQ form: per-channel symmetric int8 weights, per-tensor uint8 "
                + "activations calibrated on ONNX Runtime, int32 biases (--dynamic: weights of Gemm/MatMul only).",
        footer = {"", "Examples:", "  graft quantize small_vgg.onnx small_vgg_int8.onnx --calibration calib.npy",
                "  graft quantize source.onnx source_int8.onnx --calibration /usr/share/datasets/fashion-mnist --samples 500 --scale 1/255",
                "  graft quantize vgg16.onnx vgg16_int8.onnx --calibration images/ --method percentile:99.99 --exclude fc8 --json",
                "  graft quantize mlp.onnx mlp_int8.onnx --dynamic",
                "", "Calibration images are not resized: each must have the model's input size. Exit 3 (nothing written) for a",
                "calibration source with no samples or the wrong size, and for a model that is already quantized."})
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IN", description = "Float32 model.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "Quantized ONNX model.")
    Path out;

    @Mixin
    InputOptions input = new InputOptions();

    @Option(names = "--calibration", paramLabel = "DIR|x.npy", description = "Calibration samples: an .npy array of model inputs, an IDX "
            + "folder (its training images) or a folder of JPEG/PNG images of the model's input size.")
    Path calibration;

    @Option(names = "--samples", defaultValue = "500", description = "At most this many calibration samples, a seeded random choice (default: ${DEFAULT-VALUE}; 0: all).")
    int samples;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the --samples choice (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--method", defaultValue = "minmax", paramLabel = "M",
            description = "Activation ranges: minmax, entropy (clipped at the threshold of least KL divergence, 2048-bin histogram of |x|, "
                    + "128 levels), or percentile:P (the P-th and (100-P)-th percentiles, 50 < P <= 100) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--per-tensor", description = "One weight scale per tensor instead of one per output channel.")
    boolean perTensor;

    @Option(names = "--exclude", arity = "1..*", paramLabel = "LAYER", description = "Layers kept in float32 (names or the numbers 'graft inspect' shows).")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--dynamic", description = "Weights only, for Gemm/MatMul models: int8 weights, float activations, no calibration.")
    boolean dynamic;

    @Option(names = "--format", defaultValue = "qdq", paramLabel = "F", description = "qdq (QuantizeLinear/DequantizeLinear pairs around float "
            + "ops) or qoperator (QLinearConv, MatMulInteger; QuantizeLinear/DequantizeLinear at the boundaries) (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--json", description = "Print the per-layer ranges and scales as JSON.")
    boolean json;

    @Option(names = "--opset", defaultValue = "17", description = "ONNX opset to write, 13 to 21 (default: ${DEFAULT-VALUE}).")
    int opset;

    @Option(names = "--scale", paramLabel = "S", description = "Override the model's preprocessing pixel scale for images (e.g. 1/255).")
    String scale;

    @Option(names = "--mean", paramLabel = "M,M,M", description = "Override the model's preprocessing mean (per channel, after --scale).")
    String mean;

    @Option(names = "--std", paramLabel = "S,S,S", description = "Override the model's preprocessing std.")
    String std;

    @Option(names = "--quiet", description = "No calibration progress bar.")
    boolean quiet;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter log = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ModelFormat target = Formats.forFile(out, null);
        if (!target.name().equals("onnx")) {
            throw new UsageException("quantize: " + target.name() + " output has no INT8 form; write an .onnx file");
        }
        if (opset < 13 || opset > 21) {
            throw new UsageException("--opset " + opset + ": QDQ with per-channel scales needs opset 13 to 21");
        }
        Quantize.Method m;
        double pct = 100;
        if (method.equals("minmax")) {
            m = Quantize.Method.MINMAX;
        } else if (method.equals("entropy")) {
            m = Quantize.Method.ENTROPY;
        } else if (method.startsWith("percentile:")) {
            m = Quantize.Method.PERCENTILE;
            try {
                pct = Double.parseDouble(method.substring("percentile:".length()));
            } catch (NumberFormatException e) {
                pct = Double.NaN;
            }
            if (!(pct > 50 && pct <= 100)) {
                throw new UsageException("--method " + method + ": P must be a number above 50 and at most 100, e.g. percentile:99.99");
            }
        } else {
            throw new UsageException("--method '" + method + "': unknown; known: minmax, entropy, percentile:P (e.g. percentile:99.99)");
        }
        if (!format.equals("qdq") && !format.equals("qoperator")) {
            throw new UsageException("--format '" + format + "': unknown; known: qdq, qoperator");
        }
        if (dynamic && format.equals("qoperator")) {
            throw new UsageException("--format qoperator needs static quantization (activations calibrated); --dynamic writes QDQ weights only");
        }
        if (dynamic && calibration != null) {
            throw new UsageException("--dynamic quantizes weights only and takes no --calibration");
        }
        if (!dynamic && calibration == null) {
            throw new UsageException("quantize: --calibration DIR|x.npy is required (or --dynamic for weights only)");
        }
        List<Path> inputs = new ArrayList<>(List.of(in));
        if (input.weights != null) {
            inputs.add(input.weights);
        }
        if (calibration != null) {
            inputs.add(calibration);
        }
        graft.io.AtomicOutput.checkTarget(out, force, inputs);
        Graph g = ModelLoader.load(in, input.from, input.toOptions());
        ModelLoader.notices(g, err);
        Set<String> excluded = new LinkedHashSet<>();
        for (String e : exclude) {
            excluded.add(graft.surgery.LayerRef.resolve(g, "--exclude", e));
        }
        Quantize.Settings settings = new Quantize.Settings(m, pct, perTensor, excluded, dynamic);
        Quantize.Plan plan = Quantize.plan(g, settings, in.toString());
        if (plan.targets().isEmpty()) {
            throw new graft.error.UnsupportedModelException("model '" + in + "': no " + (dynamic ? "Gemm or MatMul" : "Conv, Gemm or MatMul")
                    + " with float32 weights left to quantize" + (excluded.isEmpty() ? "" : " (excluded: " + String.join(", ", excluded) + ")"));
        }
        if (format.equals("qoperator")) {
            graft.deploy.QOperator.check(g, plan, in.toString());
        }
        Map<String, float[]> ranges = Map.of();
        int count = 0;
        if (!dynamic) {
            Samples data = CalibrationData.load(calibration, sampleShape(g), preprocessing(g), samples, seed);
            count = data.size();
            int passes = m == Quantize.Method.MINMAX ? 1 : 2;
            int total = passes * data.size();
            try (Progress p = Progress.start(err, System.err, quiet, "calibrating", total, "samples")) {
                ranges = Calibration.ranges(g, plan.activations(), data, m, pct, p::stepTo);
            }
        }
        Quantize.Report r = Quantize.apply(g, plan, ranges, settings);
        int integerNodes = format.equals("qoperator") ? graft.deploy.QOperator.apply(g, plan, in.toString()) : 0;
        Options o = Options.none().set("opset", opset).set("external-data", "auto").set("force", force).set("inputs", inputs);
        target.write(g, out, o);
        if (json) {
            log.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson(r, settings, count, format)));
        } else {
            log.printf("wrote %s (onnx opset %d, %d layers, %,d bytes)%n", out, opset, graft.ir.LayerTable.totals(g).layers(), Files.size(out));
            log.println(r.describe() + (format.equals("qoperator") ? "; qoperator: " + integerNodes + " integer nodes" : ""));
            for (Quantize.Range a : r.activations()) {
                log.printf(Locale.ROOT, "  %-24s %-28s [%.6g, %.6g] scale %.6g zero point %d%n", a.layer(), a.tensor(), a.min(), a.max(), a.scale(),
                        a.zeroPoint());
            }
        }
        log.flush();
        return 0;
    }

    /** The model's sample shape ([C, H, W] for images; -1 where symbolic), as the calibration samples must be. */
    static long[] sampleShape(Graph g) {
        var v = g.inputs().get(0);
        TensorType t = v.type() != null ? v.type() : g.type(v.name());
        if (t == null || t.shape() == null) {
            return null;
        }
        long[] s = new long[t.shape().rank() - 1];
        for (int i = 1; i < t.shape().rank(); i++) {
            s[i - 1] = t.shape().dim(i).isFixed() ? t.shape().dim(i).value() : -1;
        }
        if (s.length == 3 && graft.data.InputLayout.channelsLast(g)) {
            s = new long[] {s[2], s[0], s[1]};
        }
        return s;
    }

    graft.ir.Preprocessing preprocessing(Graph g) {
        graft.ir.Preprocessing base;
        try {
            base = graft.ir.Preprocessing.of(g.metadata());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage() + ". Fix the model's preprocessing metadata or pass --mean/--std/--scale");
        }
        try {
            return base.overridden(false, scale != null ? graft.ir.Preprocessing.parseList(scale)[0] : null,
                    mean != null ? graft.ir.Preprocessing.parseList(mean) : null, std != null ? graft.ir.Preprocessing.parseList(std) : null);
        } catch (NumberFormatException e) {
            throw new UsageException("preprocessing value is not a list of numbers: " + e.getMessage());
        }
    }

    static Map<String, Object> toJson(Quantize.Report r, Quantize.Settings s, int samples, String format) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("settings", s.describe());
        m.put("calibration_samples", samples);
        m.put("nodes_quantized", r.nodes());
        m.put("format", format);
        m.put("excluded", r.excluded());
        m.put("weight_bytes_before", r.bytesBefore());
        m.put("weight_bytes_after", r.bytesAfter());
        List<Map<String, Object>> acts = new ArrayList<>();
        for (Quantize.Range a : r.activations()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("layer", a.layer());
            x.put("tensor", a.tensor());
            x.put("min", a.min());
            x.put("max", a.max());
            x.put("scale", a.scale());
            x.put("zero_point", a.zeroPoint());
            acts.add(x);
        }
        m.put("activations", acts);
        List<Map<String, Object>> ws = new ArrayList<>();
        for (Quantize.WeightQ w : r.weights()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("layer", w.layer());
            x.put("weight", w.weight());
            x.put("op", w.op());
            x.put("kind", w.bias() ? "bias int32" : "weight int8");
            x.put("scales", w.scales());
            x.put("max_abs", w.maxAbs());
            ws.add(x);
        }
        m.put("weights", ws);
        return m;
    }
}
