package graft.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import graft.error.Faults;
import graft.error.GraftException;
import graft.error.InvalidGraphException;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.io.ModelFiles;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.proto.Onnx.AttributeProto;
import graft.onnx.proto.Onnx.GraphProto;
import graft.onnx.proto.Onnx.ModelProto;
import graft.onnx.proto.Onnx.NodeProto;
import graft.onnx.proto.Onnx.OperatorSetIdProto;
import graft.onnx.proto.Onnx.StringStringEntryProto;
import graft.onnx.proto.Onnx.TensorProto;
import graft.onnx.proto.Onnx.TensorShapeProto;
import graft.onnx.proto.Onnx.TypeProto;
import graft.onnx.proto.Onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an ONNX model into the IR. The file is memory-mapped and parsed with aliasing, so
 * initializer bytes are never copied: weights are views over the mapping. Everything graft
 * does not model (unknown fields, unknown ops, functions, doc strings) is kept in the
 * graph's and nodes' extras and written back by {@link OnnxExporter}.
 */
public final class OnnxImporter {
    static final String MODEL_EXTRAS = "onnx.model";
    static final String GRAPH_EXTRAS = "onnx.graph";
    static final String INIT_INPUTS = "onnx.initializer_inputs";
    static final String VALUE_INFO = "onnx.value_info";
    static final String NODE_PROTO = "onnx.node";
    static final String NODE_UNKNOWN = "onnx.unknown";
    static final String TENSOR_EXTRAS_PREFIX = "onnx.tensor:";
    /** Where an exception means the file is corrupt, not that graft has a bug: protobuf and its generated classes. */
    private static final String[] PARSER = {"com.google.protobuf.", "graft.onnx.proto."};

    private OnnxImporter() {
    }

    public static Graph read(Path file) {
        long size = ModelFiles.checkReadable(file);
        if (size > Integer.MAX_VALUE) {
            throw new MalformedModelException(file, "is " + size + " bytes; an ONNX protobuf cannot exceed 2 GB (use external data)");
        }
        graft.io.Timing.mark("onnx read: start");
        ByteBuffer mapped = ModelFiles.map(ModelFiles.source(file));
        sniff(file, mapped);
        WireCheck.check(file, mapped, ModelProto.getDescriptor());
        ModelProto model;
        try {
            // Wrapped as an immutable ByteString so that aliasing applies: bytes fields become views, not copies.
            CodedInputStream in = com.google.protobuf.UnsafeByteOperations.unsafeWrap(mapped).newCodedInput();
            in.enableAliasing(true);
            in.setSizeLimit(Integer.MAX_VALUE);
            in.setRecursionLimit(256);
            model = ModelProto.parser().parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new MalformedModelException(file, "is truncated or corrupted (" + shortReason(e) + ")");
        } catch (RuntimeException e) {
            if (!Faults.thrownIn(e, PARSER)) {
                throw e;
            }
            throw new MalformedModelException(file, "is corrupted: " + e.getClass().getSimpleName());
        }
        graft.io.Timing.mark("onnx read: protobuf parsed");
        try {
            return convert(model, file, size, RawDataIndex.of(mapped));
        } catch (InvalidGraphException e) {
            throw new MalformedModelException(file, e.getMessage(), e);
        } catch (GraftException e) {
            throw e;
        } catch (RuntimeException e) {
            // protobuf parses some fields lazily; anything else thrown here is graft's own bug (exit 4).
            if (!Faults.thrownIn(e, PARSER)) {
                throw e;
            }
            throw new MalformedModelException(file, "holds an inconsistent graph: " + e.getMessage(), e);
        }
    }

    private static String shortReason(InvalidProtocolBufferException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("truncated")) {
            return "the input ended in the middle of a field";
        }
        int dot = m.indexOf(". ");
        return dot > 0 ? m.substring(0, dot) : m;
    }

    /** Rejects files that are plainly something else before protobuf makes a confusing error of them. */
    private static void sniff(Path file, ByteBuffer b) {
        byte[] head = new byte[Math.min(16, b.remaining())];
        b.get(0, head);
        String s = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (s.startsWith("\u0089HDF")) {
            throw new MalformedModelException(file, "is an HDF5 file (Keras?), not ONNX; name it .h5 or pass --from keras");
        }
        if (s.startsWith("PK\u0003\u0004")) {
            throw new MalformedModelException(file, "is a zip archive (.keras or PyTorch?), not ONNX");
        }
        int first = head[0] & 0xff;
        int field = first >>> 3;
        int wire = first & 7;
        boolean ok = (wire == 0 && (field == 1 || field == 5)) || (wire == 2 && (field >= 2 && field <= 8 || field == 14 || field == 20 || field == 25));
        if (!ok) {
            throw new MalformedModelException(file, "is not an ONNX model (it does not start with a ModelProto field)");
        }
    }

    static Graph convert(ModelProto model, Path file, long fileSize) {
        return convert(model, file, fileSize, Map.of());
    }

    /** {@code rawData}: where initializers' raw_data lie in {@code file} ({@link RawDataIndex}). */
    static Graph convert(ModelProto model, Path file, long fileSize, Map<String, long[]> rawData) {
        if (!model.hasGraph()) {
            throw new MalformedModelException(file, "is an ONNX ModelProto without a graph");
        }
        GraphProto gp = model.getGraph();
        graft.error.TestFault.at("onnx-import");
        Graph g = new Graph(gp.getName().isEmpty() ? stem(file) : gp.getName());
        long opset = -1;
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            String d = o.getDomain().equals("ai.onnx") ? "" : o.getDomain();
            g.opsets().put(d, o.getVersion());
            if (d.isEmpty()) {
                opset = o.getVersion();
            }
        }
        if (opset < 0) {
            opset = model.getOpsetImportCount() == 0 ? 1 : 17;
            if (model.getOpsetImportCount() == 0) {
                throw new MalformedModelException(file, "declares no opset_import");
            }
        }
        if (opset < 1 || opset > 21) {
            throw new UnsupportedModelException("model '" + file + "': opset " + opset + " is outside the opsets graft reads (1 to 21)");
        }
        for (StringStringEntryProto e : model.getMetadataPropsList()) {
            g.metadata().put(e.getKey(), e.getValue());
        }
        TrainingMetadata.read(g);
        g.extras().put(MODEL_EXTRAS, model.toBuilder().clearGraph().clearMetadataProps().clearOpsetImport().build().toByteArray());
        g.extras().put(GRAPH_EXTRAS, gp.toBuilder().clearNode().clearInitializer().clearInput().clearOutput().clearValueInfo()
                .build().toByteArray());

        for (TensorProto t : gp.getInitializerList()) {
            if (t.getName().isEmpty()) {
                throw new MalformedModelException(file, "has an initializer without a name");
            }
            g.addInitializer(OnnxTensors.toWeight(t, file, fileSize, rawData.get(t.getName())));
            TensorProto rest = t.toBuilder().clearDims().clearDataType().clearName().clearRawData().clearFloatData()
                    .clearDoubleData().clearInt32Data().clearInt64Data().clearUint64Data().clearExternalData()
                    .clearDataLocation().build();
            if (rest.getSerializedSize() > 0) {
                g.extras().put(TENSOR_EXTRAS_PREFIX + t.getName(), rest.toByteArray());
            }
        }
        List<ValueInfoProto> initInputs = new ArrayList<>();
        for (ValueInfoProto v : gp.getInputList()) {
            if (g.initializers().containsKey(v.getName())) {
                initInputs.add(v);
            } else {
                g.inputs().add(new Value(v.getName(), type(v)));
            }
        }
        // IR 3 lists every initializer as an input because it must; from IR 4 on, a listed
        // initializer is a default a caller may override, worth keeping. Only those are kept:
        // written again at IR >= 4, the forced ones make ONNX Runtime warn once per weight.
        if (!initInputs.isEmpty() && model.getIrVersion() >= 4) {
            g.extras().put(INIT_INPUTS, pack(initInputs));
        }
        for (ValueInfoProto v : gp.getValueInfoList()) {
            TensorType t = type(v);
            if (t != null) {
                g.types().put(v.getName(), t);
            }
        }
        if (gp.getValueInfoCount() > 0) {
            g.extras().put(VALUE_INFO, pack(gp.getValueInfoList()));
        }
        List<String> problems = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int k = 0;
        for (NodeProto np : gp.getNodeList()) {
            Node n = node(np, file, fileSize, k++, names);
            Op op = n.op();
            if (op == null) {
                g.nodes().add(n);
                continue;
            }
            try {
                for (Node up : OpsetAdapter.upgrade(n, opset, g)) {
                    problems.addAll(op.problems(up));
                    g.nodes().add(up);
                }
            } catch (InvalidGraphException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidGraphException(g.name(), problems);
        }
        for (ValueInfoProto v : gp.getOutputList()) {
            g.outputs().add(new Value(v.getName(), type(v)));
        }
        LayerMetadata.read(g);
        GraphValidator.check(g);
        ShapeInference.run(g);
        if (OpsetAdapter.fixLegacySoftmax(g)) {
            ShapeInference.run(g);
        }
        return g;
    }

    private static Node node(NodeProto np, Path file, long fileSize, int index, Set<String> names) {
        String name = np.getName();
        if (name.isEmpty() || names.contains(name)) {
            // ONNX allows unnamed nodes; the IR addresses layers by name, so give each a stable one.
            name = (np.getName().isEmpty() ? np.getOpType() : np.getName()) + "_" + index;
        }
        names.add(name);
        Map<String, Attr> attrs = new LinkedHashMap<>();
        for (AttributeProto a : np.getAttributeList()) {
            attrs.put(a.getName(), OnnxAttributes.toAttr(a, file, fileSize));
        }
        Map<String, byte[]> extras = new LinkedHashMap<>();
        if (Op.find(np.getDomain(), np.getOpType()) == null) {
            extras.put(NODE_PROTO, np.toByteArray());
        } else {
            NodeProto rest = np.toBuilder().clearInput().clearOutput().clearName().clearOpType().clearDomain()
                    .clearAttribute().build();
            if (rest.getSerializedSize() > 0) {
                extras.put(NODE_UNKNOWN, rest.toByteArray());
            }
        }
        String domain = np.getDomain().equals("ai.onnx") ? "" : np.getDomain();
        return new Node(name, np.getOpType(), domain, name, np.getInputList(), np.getOutputList(), attrs, extras);
    }

    static TensorType type(ValueInfoProto v) {
        if (!v.hasType() || !v.getType().hasTensorType()) {
            return null;
        }
        TypeProto.Tensor t = v.getType().getTensorType();
        DataType dt = DataType.fromCode(t.getElemType());
        if (dt == null) {
            return null;
        }
        if (!t.hasShape()) {
            return new TensorType(dt, null);
        }
        List<Dim> dims = new ArrayList<>();
        for (TensorShapeProto.Dimension d : t.getShape().getDimList()) {
            if (d.hasDimValue() && d.getDimValue() >= 0) {
                dims.add(Dim.of(d.getDimValue()));
            } else {
                dims.add(Dim.sym(d.hasDimParam() && !d.getDimParam().isEmpty() ? d.getDimParam() : "?"));
            }
        }
        return new TensorType(dt, new Shape(dims));
    }

    static byte[] pack(List<ValueInfoProto> list) {
        GraphProto.Builder b = GraphProto.newBuilder();
        b.addAllValueInfo(list);
        return b.build().toByteArray();
    }

    static List<ValueInfoProto> unpack(byte[] bytes) {
        try {
            return GraphProto.parseFrom(bytes).getValueInfoList();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** Used by tests and tools that want to confirm a weight is a view, not a copy. */
    static boolean isMapped(Weight w) {
        return w.source().buffer().isDirect();
    }
}
