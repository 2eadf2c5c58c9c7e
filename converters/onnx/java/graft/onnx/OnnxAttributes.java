package graft.onnx;

import com.google.protobuf.ByteString;
import graft.ir.Attr;
import graft.ir.Weight;
import graft.onnx.proto.Onnx.AttributeProto;
import graft.onnx.proto.Onnx.AttributeProto.AttributeType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** AttributeProto to {@link Attr} and back. Subgraphs and other rare kinds travel opaquely. */
final class OnnxAttributes {
    private OnnxAttributes() {
    }

    static Attr toAttr(AttributeProto a, Path file, long fileSize) {
        AttributeType type = a.hasType() ? a.getType() : guess(a);
        return switch (type) {
            case FLOAT -> Attr.of(a.getF());
            case INT -> Attr.of(a.getI());
            case STRING -> Attr.of(a.getS().toString(StandardCharsets.UTF_8));
            case INTS -> Attr.ints(a.getIntsList());
            case FLOATS -> {
                float[] f = new float[a.getFloatsCount()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = a.getFloats(i);
                }
                yield Attr.floats(f);
            }
            case STRINGS -> {
                List<String> s = new ArrayList<>();
                for (ByteString b : a.getStringsList()) {
                    s.add(b.toString(StandardCharsets.UTF_8));
                }
                yield Attr.strings(s);
            }
            case TENSOR -> Attr.tensor(OnnxTensors.toWeight(a.getT(), file, fileSize));
            default -> Attr.opaque(a.toByteArray());
        };
    }

    private static AttributeType guess(AttributeProto a) {
        if (a.hasF()) {
            return AttributeType.FLOAT;
        }
        if (a.hasI()) {
            return AttributeType.INT;
        }
        if (a.hasS()) {
            return AttributeType.STRING;
        }
        if (a.hasT()) {
            return AttributeType.TENSOR;
        }
        if (a.getIntsCount() > 0) {
            return AttributeType.INTS;
        }
        if (a.getFloatsCount() > 0) {
            return AttributeType.FLOATS;
        }
        if (a.getStringsCount() > 0) {
            return AttributeType.STRINGS;
        }
        return AttributeType.UNDEFINED;
    }

    static AttributeProto toProto(String name, Attr a) {
        if (a.kind() == Attr.Kind.OPAQUE) {
            try {
                return AttributeProto.parseFrom(a.asOpaque()).toBuilder().setName(name).build();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException("opaque attribute '" + name + "' is not an ONNX attribute", e);
            }
        }
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
        switch (a.kind()) {
            case INT -> b.setType(AttributeType.INT).setI(a.asInt());
            case FLOAT -> b.setType(AttributeType.FLOAT).setF(a.asFloat());
            case STRING -> b.setType(AttributeType.STRING).setS(ByteString.copyFromUtf8(a.asString()));
            case INTS -> {
                b.setType(AttributeType.INTS);
                for (long v : a.asInts()) {
                    b.addInts(v);
                }
            }
            case FLOATS -> {
                b.setType(AttributeType.FLOATS);
                for (float v : a.asFloats()) {
                    b.addFloats(v);
                }
            }
            case STRINGS -> {
                b.setType(AttributeType.STRINGS);
                for (String s : a.asStrings()) {
                    b.addStrings(ByteString.copyFromUtf8(s));
                }
            }
            case TENSOR -> b.setType(AttributeType.TENSOR).setT(inlineTensor(a.asTensor()));
            default -> throw new IllegalStateException("attribute kind " + a.kind());
        }
        return b.build();
    }

    /** A tensor with its bytes inline as raw_data (for attributes and small constants). */
    static graft.onnx.proto.Onnx.TensorProto inlineTensor(Weight w) {
        graft.onnx.proto.Onnx.TensorProto.Builder t = graft.onnx.proto.Onnx.TensorProto.newBuilder();
        for (long d : w.shape()) {
            t.addDims(d);
        }
        t.setDataType(w.dtype().code());
        if (!w.name().isEmpty()) {
            t.setName(w.name());
        }
        t.setRawData(com.google.protobuf.UnsafeByteOperations.unsafeWrap(w.buffer()));
        return t.build();
    }
}
