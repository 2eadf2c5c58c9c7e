package graft.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import graft.error.UnsupportedModelException;
import graft.error.UsageException;
import graft.io.AtomicOutput;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Node;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.proto.Onnx.GraphProto;
import graft.onnx.proto.Onnx.ModelProto;
import graft.onnx.proto.Onnx.NodeProto;
import graft.onnx.proto.Onnx.OperatorSetIdProto;
import graft.onnx.proto.Onnx.StringStringEntryProto;
import graft.onnx.proto.Onnx.TensorProto;
import graft.onnx.proto.Onnx.TensorShapeProto;
import graft.onnx.proto.Onnx.TypeProto;
import graft.onnx.proto.Onnx.ValueInfoProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Writes the IR as an ONNX model at a chosen opset, streaming: the graph structure is
 * serialized by protobuf, each weight's bytes go from their source (a mapped file region,
 * usually) to the output channel without being gathered in memory. Output is deterministic:
 * no timestamps, stable order, so the same input and options give identical bytes.
 */
public final class OnnxExporter {
    /** When weights go to a separate file. */
    public enum ExternalData { AUTO, ALWAYS, NEVER }

    /** Export settings; {@code inputs} are files the output must never overwrite. */
    public record Settings(int opset, ExternalData external, boolean force, List<Path> inputs) {
        public static Settings defaults() {
            return new Settings(OpsetAdapter.IR_OPSET, ExternalData.AUTO, false, List.of());
        }
    }

    /** Protobuf's hard limit is 2 GiB; stay clear of it with room for the graph itself. */
    static final long INLINE_LIMIT = (2L << 30) - (64L << 20);
    /** Tensors smaller than this stay inside the model even with external data. */
    static final long EXTERNAL_THRESHOLD = 1024;
    /** 1-D int64 tensors up to this size stay inside the model too (see {@link #shapeLike}). */
    static final long SHAPE_LIKE_LIMIT = 64 * 1024;
    static final String VERSION = "0.1.0";
    private static final Pattern SYMBOL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private OnnxExporter() {
    }

    public static void write(Graph g, Path out, Settings s) {
        if (s.opset() < 7 || s.opset() > 21) {
            throw new UsageException("--opset " + s.opset() + " is outside the opsets graft writes (7 to 21)");
        }
        GraphValidator.check(g);
        Plan plan = plan(g, s.opset());
        graft.io.Timing.mark("onnx write: planned");
        long weightBytes = 0;
        for (Weight w : plan.weights) {
            weightBytes += w.byteSize();
        }
        boolean external = s.external() == ExternalData.ALWAYS || (s.external() == ExternalData.AUTO && weightBytes > INLINE_LIMIT);
        Path dataFile = external ? out.resolveSibling(out.getFileName() + ".data") : null;
        List<Path> protect = new ArrayList<>(s.inputs());
        try (AtomicOutput model = AtomicOutput.open(out, s.force(), protect);
             AtomicOutput data = external ? AtomicOutput.open(dataFile, s.force(), protect) : null) {
            writeModel(g, plan, model, data, dataFile);
            model.commit();
            if (data != null) {
                data.commit();
            }
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + out + "': cannot be written: " + e.getMessage(), e);
        }
    }

    /** The model structure without weight bytes, the weights to write, and nodes as written. */
    record Plan(ModelProto model, GraphProto graph, List<Weight> weights) {
    }

    static Plan plan(Graph g, int opset) {
        OpsetWriting writing = new OpsetWriting(g, opset);
        List<String> problems = writing.problems;
        List<Node> written = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Node n : g.nodes()) {
            writing.before.clear();
            writing.after.clear();
            Node d = OpsetWriting.downgrade(n, writing);
            if (!writing.dropped.contains(n.name())) {
                for (Node x : writing.before) {
                    written.add(x);
                    used.addAll(x.inputs());
                }
                written.add(d);
                used.addAll(d.inputs());
                for (Node x : writing.after) {
                    written.add(x);
                    used.addAll(x.inputs());
                }
            }
        }
        if (!problems.isEmpty()) {
            List<String> nodes = graft.error.Refusals.byNode(problems);
            throw new UnsupportedModelException("model '" + g.name() + "' cannot be written at opset " + opset + ": "
                    + summary(nodes), nodes);
        }
        for (Value v : g.outputs()) {
            used.add(v.name());
        }
        Set<String> sourceInputsOfDowngrade = new HashSet<>();
        for (Node n : g.nodes()) {
            sourceInputsOfDowngrade.addAll(n.inputs());
        }
        List<NodeProto> nodes = new ArrayList<>();
        for (Node d : written) {
            // A Constant node whose value a downgrade folded into attributes is no longer needed.
            boolean folded = d.op() == graft.ir.Op.CONSTANT && d.outputs().stream().noneMatch(used::contains)
                    && d.outputs().stream().anyMatch(sourceInputsOfDowngrade::contains);
            if (!folded) {
                nodes.add(node(d));
            }
        }
        List<Weight> weights = new ArrayList<>();
        for (Weight w : g.initializers().values()) {
            // Keep weights the source model carried unused; drop only constants a downgrade folded into attributes.
            if (used.contains(w.name()) || !sourceInputsOfDowngrade.contains(w.name())) {
                weights.add(w);
            }
        }
        weights.addAll(writing.added);
        GraphProto.Builder gb = GraphProto.newBuilder();
        byte[] gx = g.extras().get(OnnxImporter.GRAPH_EXTRAS);
        if (gx != null) {
            try {
                gb.mergeFrom(gx);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
        gb.setName(g.name());
        gb.addAllNode(nodes);
        for (Value v : g.inputs()) {
            gb.addInput(valueInfo(v.name(), v.type() != null ? v.type() : g.type(v.name())));
        }
        Set<String> weightNames = new HashSet<>();
        weights.forEach(w -> weightNames.add(w.name()));
        byte[] ii = g.extras().get(OnnxImporter.INIT_INPUTS);
        Set<String> listed = new HashSet<>();
        if (ii != null) {
            for (ValueInfoProto v : OnnxImporter.unpack(ii)) {
                if (weightNames.contains(v.getName())) {
                    gb.addInput(v);
                    listed.add(v.getName());
                }
            }
        }
        if (irVersion(opset) < 4) {
            // IR version 3 requires every initializer to be a graph input as well.
            for (Weight w : weights) {
                if (!listed.contains(w.name())) {
                    gb.addInput(valueInfo(w.name(), new TensorType(w.dtype(), graft.ir.Shape.of(w.shape()))));
                }
            }
        }
        for (Value v : g.outputs()) {
            TensorType t = g.type(v.name());
            // An output behind an op graft does not model has no inferred shape: keep the one the file declared.
            boolean declared = v.type() != null && v.type().shape() != null && (t == null || t.shape() == null);
            gb.addOutput(valueInfo(v.name(), t != null && !declared ? t : v.type()));
        }
        byte[] vi = g.extras().get(OnnxImporter.VALUE_INFO);
        if (vi != null) {
            Set<String> produced = new HashSet<>();
            g.nodes().forEach(n -> produced.addAll(n.outputs()));
            for (ValueInfoProto v : OnnxImporter.unpack(vi)) {
                // An edit (a new input size, a cut) can leave a kept value_info stale: drop it then.
                if (produced.contains(v.getName()) && agrees(OnnxImporter.type(v), g.type(v.getName()))) {
                    gb.addValueInfo(v);
                }
            }
        }
        ModelProto.Builder mb = ModelProto.newBuilder();
        byte[] mx = g.extras().get(OnnxImporter.MODEL_EXTRAS);
        if (mx != null) {
            try {
                mb.mergeFrom(mx);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
        mb.setIrVersion(irVersion(opset));
        mb.setProducerName("graft");
        mb.setProducerVersion(VERSION);
        mb.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset));
        for (Map.Entry<String, Long> e : g.opsets().entrySet()) {
            if (!e.getKey().isEmpty()) {
                mb.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()));
            }
        }
        return new Plan(mb.build(), gb.build(), weights);
    }

    /** The refusals, each once; the first few in full and a count of the rest. */
    static String summary(List<String> problems) {
        return graft.error.Refusals.list(problems, "; ");
    }

    /** False when a kept value_info contradicts the inferred type: another rank or another fixed size. */
    static boolean agrees(TensorType kept, TensorType inferred) {
        if (kept == null || inferred == null || kept.shape() == null || inferred.shape() == null) {
            return true;
        }
        if (kept.dtype() != inferred.dtype() || kept.shape().rank() != inferred.shape().rank()) {
            return false;
        }
        for (int i = 0; i < kept.shape().rank(); i++) {
            graft.ir.Dim a = kept.shape().dim(i);
            graft.ir.Dim b = inferred.shape().dim(i);
            if (a.isFixed() && b.isFixed() && a.value() != b.value()) {
                return false;
            }
        }
        return true;
    }

    static long irVersion(int opset) {
        if (opset <= 8) {
            return 3;
        }
        if (opset <= 10) {
            return 5;
        }
        if (opset <= 11) {
            return 6;
        }
        if (opset <= 14) {
            return 7;
        }
        if (opset <= 18) {
            return 8;
        }
        return opset <= 20 ? 9 : 10;
    }

    private static NodeProto node(Node n) {
        byte[] opaque = n.extras().get(OnnxImporter.NODE_PROTO);
        NodeProto.Builder b;
        if (opaque != null) {
            try {
                b = NodeProto.parseFrom(opaque).toBuilder().clearInput().clearOutput();
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        } else {
            b = NodeProto.newBuilder();
            byte[] unknown = n.extras().get(OnnxImporter.NODE_UNKNOWN);
            if (unknown != null) {
                try {
                    b.mergeFrom(unknown);
                } catch (InvalidProtocolBufferException e) {
                    throw new IllegalStateException(e);
                }
            }
            b.setOpType(n.opType());
            if (!n.domain().isEmpty()) {
                b.setDomain(n.domain());
            }
            for (Map.Entry<String, Attr> a : n.attrs().entrySet()) {
                b.addAttribute(OnnxAttributes.toProto(a.getKey(), a.getValue()));
            }
        }
        b.setName(n.name());
        b.addAllInput(n.inputs());
        b.addAllOutput(n.outputs());
        return b.build();
    }

    static ValueInfoProto valueInfo(String name, TensorType t) {
        ValueInfoProto.Builder v = ValueInfoProto.newBuilder().setName(name);
        if (t != null) {
            TypeProto.Tensor.Builder tt = TypeProto.Tensor.newBuilder().setElemType(t.dtype().code());
            if (t.shape() != null) {
                TensorShapeProto.Builder sb = TensorShapeProto.newBuilder();
                for (Dim d : t.shape().dims()) {
                    TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                    if (d.isFixed()) {
                        db.setDimValue(d.value());
                    } else if (SYMBOL.matcher(d.symbol()).matches()) {
                        db.setDimParam(d.symbol());
                    }
                    sb.addDim(db);
                }
                tt.setShape(sb);
            }
            v.setType(TypeProto.newBuilder().setTensorType(tt));
        }
        return v.build();
    }

    private static TensorProto header(Graph g, Weight w) {
        TensorProto.Builder t = TensorProto.newBuilder();
        byte[] rest = g.extras().get(OnnxImporter.TENSOR_EXTRAS_PREFIX + w.name());
        if (rest != null) {
            try {
                t.mergeFrom(rest);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
        for (long d : w.shape()) {
            t.addDims(d);
        }
        t.setDataType(w.dtype().code());
        t.setName(w.name());
        return t.build();
    }

    /**
     * metadata_props, written after the graph: protobuf accepts fields in any order, and this
     * lets values still being computed (the source's SHA-256) finish while the weights stream.
     */
    static ModelProto metadata(Graph g) {
        ModelProto.Builder mb = ModelProto.newBuilder();
        Map<String, String> meta = new LinkedHashMap<>(g.resolvedMetadata());
        meta.remove(graft.io.ModelFormat.READ_FORMAT);
        meta.put("graft.version", VERSION);
        String training = TrainingMetadata.write(g);
        if (training != null) {
            meta.put(TrainingMetadata.KEY, training);
        }
        String layers = LayerMetadata.write(g);
        if (layers != null) {
            meta.put(LayerMetadata.KEY, layers);
        }
        for (Map.Entry<String, String> e : meta.entrySet()) {
            mb.addMetadataProps(StringStringEntryProto.newBuilder().setKey(e.getKey()).setValue(e.getValue()));
        }
        return mb.build();
    }

    private static void writeModel(Graph g, Plan plan, AtomicOutput model, AtomicOutput data, Path dataFile) throws IOException {
        List<TensorProto> headers = new ArrayList<>();
        List<Boolean> outside = new ArrayList<>();
        long dataOffset = 0;
        for (Weight w : plan.weights) {
            TensorProto h = header(g, w);
            boolean ext = data != null && w.byteSize() >= EXTERNAL_THRESHOLD && !shapeLike(w);
            if (ext) {
                dataOffset = (dataOffset + 4095) / 4096 * 4096;
                h = h.toBuilder().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(kv("location", dataFile.getFileName().toString()))
                        .addExternalData(kv("offset", Long.toString(dataOffset)))
                        .addExternalData(kv("length", Long.toString(w.byteSize()))).build();
                dataOffset += w.byteSize();
            }
            headers.add(h);
            outside.add(ext);
        }
        long graphLen = plan.graph.getSerializedSize();
        for (int i = 0; i < headers.size(); i++) {
            long len = tensorLength(headers.get(i), plan.weights.get(i), outside.get(i));
            graphLen += ProtoStream.lengthDelimitedSize(5, len) + len;
        }
        try (ProtoStream ps = new ProtoStream(model.channel())) {
            ps.bytes(plan.model.toByteArray());
            ps.lengthDelimitedHeader(7, graphLen);
            ps.bytes(plan.graph.toByteArray());
            for (int i = 0; i < headers.size(); i++) {
                TensorProto h = headers.get(i);
                Weight w = plan.weights.get(i);
                boolean ext = outside.get(i);
                ps.lengthDelimitedHeader(5, tensorLength(h, w, ext));
                ps.bytes(h.toByteArray());
                if (!ext) {
                    ps.lengthDelimitedHeader(9, w.byteSize());
                    ps.weight(w);
                }
            }
            graft.io.Timing.mark("onnx write: weights copied");
            ps.bytes(metadata(g).toByteArray());
        }
        graft.io.Timing.mark("onnx write: metadata written");
        if (data != null) {
            try (ProtoStream ds = new ProtoStream(data.channel())) {
                for (int i = 0; i < headers.size(); i++) {
                    if (outside.get(i)) {
                        ds.align(4096);
                        ds.weight(plan.weights.get(i));
                    }
                }
            }
        }
    }

    /**
     * A 1-D int64 tensor of at most {@link #SHAPE_LIKE_LIMIT} bytes stays in the model even with
     * external data: such tensors are shapes, split sizes, axes and pads, which ONNX Runtime's
     * shape inference must read at load time and cannot read from an external file ("Cannot parse
     * data from external tensors": a training step's Split over 128 or more pieces did that).
     */
    static boolean shapeLike(Weight w) {
        return w.dtype() == DataType.INT64 && w.shape().length <= 1 && w.byteSize() <= SHAPE_LIKE_LIMIT;
    }

    private static long tensorLength(TensorProto h, Weight w, boolean external) {
        long len = h.getSerializedSize();
        if (!external) {
            len += ProtoStream.lengthDelimitedSize(9, w.byteSize()) + w.byteSize();
        }
        return len;
    }

    private static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }
}
