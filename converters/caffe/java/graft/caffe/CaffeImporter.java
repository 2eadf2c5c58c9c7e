package graft.caffe;

import graft.caffe.proto.Caffe.BlobShape;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.NetParameter;
import graft.caffe.proto.Caffe.Phase;
import graft.caffe.proto.Caffe.TransformationParameter;
import graft.error.Faults;
import graft.error.GraftException;
import graft.error.InvalidGraphException;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.error.UsageException;
import graft.io.Options;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a Caffe net into the IR: a prototxt (with an optional caffemodel for its weights) or a
 * caffemodel alone. Weights are matched to layers by name, as Caffe does; a layer without a
 * blob is initialised from its filler. Data layers become graph inputs, loss and accuracy
 * layers become training metadata, {@code param}/{@code blobs_lr} become
 * {@link Graph#training()}, {@code transform_param} becomes {@code preprocess.*} metadata.
 */
public final class CaffeImporter {
    private CaffeImporter() {
    }


    /** Options: {@code weights} (caffemodel for a prototxt), {@code phase} (TRAIN|TEST), {@code data-shape} (CxHxW), {@code seed}. */
    public static Graph read(Path file, Options options) {
        Phase phase = phase(options.string("phase", "TEST"));
        NetParameter net;
        Map<String, List<Weight>> blobs = Map.of();
        if (CaffeFormat.isBinary(file)) {
            graft.io.Timing.mark("caffe read: start");
            CaffeBinary.Parsed parsed = CaffeBinary.read(file);
            graft.io.Timing.mark("caffe read: binary parsed");
            net = parsed.net();
            blobs = parsed.blobs();
        } else {
            net = CaffeText.read(file, NetParameter.newBuilder());
            Path weights = options.path("weights");
            if (weights != null) {
                blobs = CaffeBinary.read(weights).blobs();
            }
        }
        try {
            Graph g = build(file, net, blobs, phase, options);
            if (!CaffeFormat.isBinary(file)) {
                CaffeText.metadataComments(file).forEach(g.metadata()::putIfAbsent);
            }
            return g;
        } catch (InvalidGraphException e) {
            throw new MalformedModelException(file, e.getMessage(), e);
        } catch (GraftException e) {
            throw e;
        } catch (RuntimeException e) {
            // Only what protobuf raises is the file's fault; anything else is graft's own bug (exit 4).
            if (!Faults.thrownIn(e, "com.google.protobuf.", "graft.caffe.proto.")) {
                throw e;
            }
            throw new MalformedModelException(file, "holds an inconsistent net: " + e.getMessage(), e);
        }
    }

    static Phase phase(String s) {
        return switch (s.toUpperCase(Locale.ROOT)) {
            case "TEST" -> Phase.TEST;
            case "TRAIN" -> Phase.TRAIN;
            default -> throw new UsageException("--phase " + s + ": a Caffe phase is TRAIN or TEST");
        };
    }

    private static Graph build(Path file, NetParameter net, Map<String, List<Weight>> blobs, Phase phase, Options options) {
        List<LayerParameter> layers = CaffeNets.forPhase(CaffeNets.layers(net), phase);
        graft.error.TestFault.at("caffe-import");
        List<String> unsupported = new ArrayList<>();
        for (LayerParameter l : layers) {
            if (CaffeLayerType.of(l.getType()) == null) {
                unsupported.add(l.getName() + " (" + l.getType() + ")");
            }
        }
        if (!unsupported.isEmpty()) {
            throw new UnsupportedModelException("model '" + file + "': " + unsupported.size() + " layer(s) graft cannot convert: "
                    + String.join(", ", unsupported) + ". Supported: " + supported(), unsupported);
        }
        Graph g = new Graph(net.getName().isEmpty() ? stem(file) : net.getName());
        g.opsets().put("", 17L);
        ImportContext c = new ImportContext(file, g, blobs, options.integer("seed", 0));
        c.layers = layers;
        headerInputs(c, net);
        LayerReader conv = new LayerReader(c);
        List<String> trainingOnly = new ArrayList<>();
        Set<String> lossInputs = new HashSet<>();
        for (LayerParameter l : layers) {
            CaffeLayerType t = CaffeLayerType.of(l.getType());
            switch (t.role()) {
                case INPUT -> DataInputs.declare(c, l, t, options);
                case COMPUTE -> {
                    conv.convert(l, t);
                    training(g, l, t, c.paramBlobs.getOrDefault(l.getName(), 0));
                }
                case TRAINING -> {
                    if (t != CaffeLayerType.SILENCE) {
                        trainingLayer(c, l, t, trainingOnly, lossInputs);
                    }
                }
            }
        }
        if (!trainingOnly.isEmpty()) {
            g.metadata().put("training.layers", String.join("; ", trainingOnly));
        }
        outputs(c, lossInputs);
        if (!c.filled.isEmpty()) {
            g.metadata().put("caffe.filled_from_fillers", String.join(",", c.filled));
            if (c.fromModel == 0) {
                // Not one parameter came from a caffemodel: the net's weights are its fillers (all
                // zeros for a deploy prototxt). The command line refuses such a net unless asked.
                Path weights = options.path("weights");
                g.metadata().put(graft.io.ModelFormat.WEIGHTS_MISSING, weights == null && !CaffeFormat.isBinary(file)
                        ? "a prototxt holds no weights"
                        : "the caffemodel '" + (weights != null ? weights : file) + "' holds blobs for none of the net's layers");
            }
        }
        GraphValidator.check(g);
        ShapeInference.run(g);
        return g;
    }

    private static void headerInputs(ImportContext c, NetParameter net) {
        for (int i = 0; i < net.getInputCount(); i++) {
            long[] shape;
            if (i < net.getInputShapeCount()) {
                BlobShape s = net.getInputShape(i);
                shape = s.getDimList().stream().mapToLong(Long::longValue).toArray();
            } else if (net.getInputDimCount() >= 4 * (i + 1)) {
                shape = new long[4];
                for (int k = 0; k < 4; k++) {
                    shape[k] = net.getInputDim(4 * i + k);
                }
            } else {
                throw new MalformedModelException(c.file, "input '" + net.getInput(i) + "' has no input_shape or input_dim");
            }
            input(c, net.getInput(i), shape);
        }
    }

    /** A net input of a shape the file states: Caffe has no symbolic or negative dimensions. */
    static void input(ImportContext c, String blob, long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                throw new MalformedModelException(c.file, "input '" + blob + "' has a negative dimension in its shape "
                        + java.util.Arrays.toString(shape));
            }
        }
        input(c, blob, Shape.of(shape));
    }

    static void input(ImportContext c, String blob, Shape shape) {
        c.g.inputs().add(new Value(blob, new TensorType(DataType.FLOAT, shape)));
        c.define(blob, blob);
    }

    /**
     * lr_mult/decay_mult of a layer with parameters, when the net states them, one per blob with
     * Caffe's rule (net.cpp AppendParam): a blob beyond the listed {@code param}s gets the default
     * ParamSpec, lr_mult 1 and decay_mult 1, so {@code param { lr_mult: 0 }} alone freezes the
     * weights and leaves the bias training. BatchNorm's blobs are statistics Caffe never trains
     * (it forces their lr_mult to 0); graft's BatchNormalization scale/bias for it are constants
     * 1 and 0, not Caffe parameters, so the layer is frozen.
     */
    private static void training(Graph g, LayerParameter l, CaffeLayerType t, int blobs) {
        if (t == CaffeLayerType.BATCH_NORM) {
            g.training().put(l.getName(), LayerTraining.frozen());
            return;
        }
        if (l.getParamCount() == 0) {
            return;
        }
        List<Float> lr = new ArrayList<>();
        List<Float> decay = new ArrayList<>();
        boolean trainable = false;
        for (int i = 0; i < Math.max(blobs, l.getParamCount()); i++) {
            var ps = i < l.getParamCount() ? l.getParam(i) : graft.caffe.proto.Caffe.ParamSpec.getDefaultInstance();
            lr.add(ps.getLrMult());
            decay.add(ps.getDecayMult());
            trainable |= ps.getLrMult() != 0;
        }
        g.training().put(l.getName(), new LayerTraining(trainable, lr, decay));
    }

    private static void trainingLayer(ImportContext c, LayerParameter l, CaffeLayerType t, List<String> out, Set<String> lossInputs) {
        List<String> in = new ArrayList<>();
        for (int i = 0; i < l.getBottomCount(); i++) {
            String b = l.getBottom(i);
            in.add(b);
            if (c.known(b)) {
                lossInputs.add(c.bottom(l, i));
            }
        }
        String extra = t == CaffeLayerType.ACCURACY ? " top_k " + l.getAccuracyParam().getTopK() : "";
        out.add(l.getName() + ": " + l.getType() + "(" + String.join(", ", in) + ")" + extra);
        String key = t == CaffeLayerType.ACCURACY ? "training.accuracy" : "training.loss";
        c.g.metadata().merge(key, l.getName(), (a, b) -> a + "," + b);
        if (t != CaffeLayerType.ACCURACY && l.getBottomCount() > 0) {
            c.g.metadata().putIfAbsent("training.prediction", l.getBottom(0));
        }
    }

    /** Values nothing consumes; a Data layer's label and values only losses read are not inference outputs. */
    private static void outputs(ImportContext c, Set<String> lossInputs) {
        Set<String> consumed = new HashSet<>(c.allValuesConsumed());
        Set<String> inputs = new HashSet<>();
        c.g.inputs().forEach(v -> inputs.add(v.name()));
        LinkedHashMap<String, Boolean> outs = new LinkedHashMap<>();
        for (Node n : c.g.nodes()) {
            for (String o : n.outputs()) {
                if (!consumed.contains(o)) {
                    outs.put(o, Boolean.TRUE);
                }
            }
        }
        if (outs.isEmpty()) {
            throw new MalformedModelException(c.file, "has no layer that computes anything from its inputs");
        }
        for (String o : outs.keySet()) {
            c.g.outputs().add(new Value(o, null));
        }
        // Inputs that no node reads (a train_val net's label) are dropped from the inference graph.
        c.g.inputs().removeIf(v -> !consumed.contains(v.name()));
    }

    /**
     * Per-channel means of a {@code mean_file} BlobProto found inside the model's folder
     * (Caffe resolves it against its working directory, which graft does not know; a path
     * outside the folder is only recorded, never read). Null when not found.
     */
    static float[] meanFileChannels(Path model, String meanFile) {
        Path f;
        try {
            f = graft.io.ModelFiles.resolveInside(model, meanFile);
        } catch (MalformedModelException e) {
            return null;
        }
        if (!java.nio.file.Files.isRegularFile(f)) {
            return null;
        }
        graft.caffe.proto.Caffe.BlobProto b;
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(graft.io.ModelFiles.source(f))) {
            com.google.protobuf.CodedInputStream cin = com.google.protobuf.CodedInputStream.newInstance(in);
            cin.setSizeLimit(Integer.MAX_VALUE);
            b = graft.caffe.proto.Caffe.BlobProto.parseFrom(cin);
        } catch (java.io.IOException e) {
            throw new MalformedModelException(f, "is not a Caffe mean file (BlobProto): " + e.getMessage());
        }
        long[] shape = b.hasShape() ? b.getShape().getDimList().stream().mapToLong(Long::longValue).toArray()
                : new long[] {b.getNum(), b.getChannels(), b.getHeight(), b.getWidth()};
        int n = Math.max(b.getDataCount(), b.getDoubleDataCount());
        if (shape.length < 3 || n == 0 || n != Shape.elementCount(shape)) {
            throw new MalformedModelException(f, "holds " + n + " values for the mean shape " + java.util.Arrays.toString(shape));
        }
        int ch = (int) shape[shape.length - 3];
        int plane = n / Math.max(1, ch);
        float[] r = new float[ch];
        for (int c = 0; c < ch; c++) {
            double sum = 0;
            for (int i = 0; i < plane; i++) {
                sum += b.getDataCount() > 0 ? b.getData(c * plane + i) : b.getDoubleData(c * plane + i);
            }
            r[c] = (float) (sum / plane);
        }
        return r;
    }

    static void preprocess(Graph g, TransformationParameter tp, long channels, Path model) {
        if (tp.hasMeanFile() && tp.getMeanValueCount() == 0) {
            float[] m = meanFileChannels(model, tp.getMeanFile());
            if (m != null) {
                TransformationParameter.Builder b = tp.toBuilder();
                for (float v : m) {
                    b.addMeanValue(v);
                }
                tp = b.build();
                g.metadata().put("preprocess.mean_value_from", "channel averages of the mean file");
            }
        }
        if (tp.hasScale() && tp.getScale() != 1) {
            g.metadata().put("preprocess.scale", fmt(tp.getScale()));
        }
        if (tp.getMeanValueCount() > 0) {
            List<String> m = new ArrayList<>();
            tp.getMeanValueList().forEach(v -> m.add(fmt(v)));
            g.metadata().put("preprocess.mean_value", String.join(",", m));
        }
        if (tp.hasMeanFile()) {
            g.metadata().put("preprocess.mean_file", tp.getMeanFile());
        }
        if (tp.getCropSize() > 0) {
            g.metadata().put("preprocess.crop_size", Long.toString(tp.getCropSize()));
        }
        if (tp.hasMirror()) {
            g.metadata().put("preprocess.mirror", Boolean.toString(tp.getMirror()));
        }
        if (channels == 3) {
            g.metadata().put("preprocess.channel_order", "BGR");
        }
        if (!g.metadata().containsKey("preprocess.input_range") && (tp.hasScale() || tp.getMeanValueCount() > 0 || tp.hasMeanFile())) {
            g.metadata().put("preprocess.input_range", "0..255");
        }
    }

    static String fmt(float f) {
        return f == Math.rint(f) && Math.abs(f) < 1e9 ? Long.toString((long) f) : Float.toString(f);
    }

    private static String supported() {
        List<String> n = new ArrayList<>();
        for (CaffeLayerType t : CaffeLayerType.values()) {
            n.add(t.typeName());
        }
        return String.join(", ", n);
    }

    static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
