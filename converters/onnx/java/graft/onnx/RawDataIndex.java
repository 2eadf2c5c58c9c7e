package graft.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each top-level initializer's {@code raw_data} bytes lie in the model file. Protobuf's
 * aliasing parse makes them views over the mapping but does not say where; this walks the
 * wire format of ModelProto.graph (7) -> GraphProto.initializer (5) -> TensorProto name (8)
 * and raw_data (9), skipping everything else, so writers can copy weights file to file.
 * Reads only field headers: a few hundred varints for VGG16.
 */
final class RawDataIndex {
    private static final int MODEL_GRAPH = 7;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int TENSOR_NAME = 8;
    private static final int TENSOR_RAW_DATA = 9;

    private RawDataIndex() {
    }

    private static int bytesTag(int field) {
        return field << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
    }

    /** Initializer name to {offset, length} of its raw_data; empty when the file is not as expected. */
    static Map<String, long[]> of(ByteBuffer model) {
        Map<String, long[]> r = new HashMap<>();
        try {
            CodedInputStream in = CodedInputStream.newInstance(model.duplicate());
            in.setSizeLimit(Integer.MAX_VALUE);
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (tag == bytesTag(MODEL_GRAPH)) {
                    int limit = in.pushLimit(in.readRawVarint32());
                    graph(in, r);
                    in.popLimit(limit);
                } else {
                    in.skipField(tag);
                }
            }
        } catch (IOException | RuntimeException e) {
            return Map.of(); // the real parse reports what is wrong with the file
        }
        r.values().removeIf(java.util.Objects::isNull);
        return r;
    }

    private static void graph(CodedInputStream in, Map<String, long[]> r) throws IOException {
        int tag;
        while ((tag = in.readTag()) != 0) {
            if (tag == bytesTag(GRAPH_INITIALIZER)) {
                int limit = in.pushLimit(in.readRawVarint32());
                String name = null;
                long[] raw = null;
                int t;
                while ((t = in.readTag()) != 0) {
                    if (t == bytesTag(TENSOR_NAME)) {
                        name = in.readStringRequireUtf8();
                    } else if (t == bytesTag(TENSOR_RAW_DATA)) {
                        int len = in.readRawVarint32();
                        raw = new long[]{in.getTotalBytesRead(), len};
                        in.skipRawBytes(len);
                    } else {
                        in.skipField(t);
                    }
                }
                in.popLimit(limit);
                if (name != null && raw != null && r.putIfAbsent(name, raw) != null) {
                    r.put(name, null); // a duplicate name: which bytes belong to the weight is not certain
                }
            } else {
                in.skipField(tag);
            }
        }
    }
}
