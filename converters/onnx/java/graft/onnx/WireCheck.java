package graft.onnx;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import graft.error.MalformedModelException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Walks a protobuf message's wire format, as its schema says, before protobuf-java parses it,
 * and refuses any length that claims more bytes than its enclosing message holds.
 *
 * <p>Why: graft parses a memory-mapped model with protobuf-java's {@code UnsafeDirectNioDecoder}
 * (bytes fields become views of the mapping, no copy). That decoder (protobuf-java 4.31.1)
 * computes {@code pushLimit(length)} as {@code length + bytesRead} in an {@code int}: a length
 * field near 2^31 overflows it, the limit goes negative, the decoder's end address moves beyond
 * the mapping, and the next read is an unchecked {@code Unsafe} read of unmapped memory: the JVM
 * dies with SIGSEGV instead of an exception (found by fuzzing, issue 21). Every length checked
 * here against the bytes that remain makes that overflow impossible; the walk reads each byte
 * of the structure once, allocates nothing, and stops at protobuf's nesting limit.
 */
final class WireCheck {
    /** Protobuf's own default recursion limit, the one graft's ONNX parse sets. */
    static final int MAX_DEPTH = 256;

    private final Path file;
    private final ByteBuffer b;

    private WireCheck(Path file, ByteBuffer b) {
        this.file = file;
        this.b = b;
    }

    /** Checks {@code b} (position 0 to limit) as a {@code type} message. */
    static void check(Path file, ByteBuffer b, Descriptor type) {
        new WireCheck(file, b).message(0, b.limit(), type, 0);
    }

    private void message(int pos, int end, Descriptor type, int depth) {
        if (depth > MAX_DEPTH) {
            throw bad("messages nested deeper than " + MAX_DEPTH + " levels");
        }
        while (pos < end) {
            long tag = varint(pos, end);
            pos = next;
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field <= 0 || tag > 0xFFFFFFFFL) {
                throw bad("a field tag of 0 or out of range at byte " + pos);
            }
            switch (wire) {
                case 0 -> {
                    varint(pos, end);
                    pos = next;
                }
                case 1 -> pos = skip(pos, end, 8, field);
                case 5 -> pos = skip(pos, end, 4, field);
                case 2 -> {
                    int len = (int) varint(pos, end);
                    pos = next;
                    if (len < 0 || len > end - pos) {
                        throw bad("field " + field + (type == null ? "" : " of " + type.getName()) + " claims " + (len & 0xFFFFFFFFL)
                                + " bytes where " + (end - pos) + " remain");
                    }
                    FieldDescriptor f = type == null ? null : type.findFieldByNumber(field);
                    if (f != null && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                        message(pos, pos + len, f.getMessageType(), depth + 1);
                    }
                    pos += len;
                }
                default -> throw bad("wire type " + wire + " (protobuf groups or garbage) in field " + field + ", which ONNX never writes");
            }
        }
        if (pos != end) {
            throw bad("a field runs past the end of its message");
        }
    }

    private int next;

    /** Reads a varint at {@code pos} (at most 10 bytes, before {@code end}); sets {@link #next}. */
    private long varint(int pos, int end) {
        long v = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw bad("the input ended in the middle of a field");
            }
            byte x = b.get(pos++);
            v |= (long) (x & 0x7f) << shift;
            if (x >= 0) {
                next = pos;
                return v;
            }
        }
        throw bad("a malformed varint");
    }

    private int skip(int pos, int end, int n, int field) {
        if (end - pos < n) {
            throw bad("the input ended in the middle of field " + field);
        }
        return pos + n;
    }

    private MalformedModelException bad(String why) {
        return new MalformedModelException(file, "is truncated or corrupted (" + why + ")");
    }
}
