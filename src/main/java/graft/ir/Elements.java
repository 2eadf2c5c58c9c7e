package graft.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one decoder of tensor elements from little-endian bytes, for every numeric {@link DataType}:
 * {@link Weight}, {@link Tensor}, {@code .npy} arrays and the reference executor all read their
 * values through it. Indices are element indices from the buffer's position.
 */
public final class Elements {
    private Elements() {
    }

    /** Element {@code i} of {@code b} (little-endian, from its position) as a double; exact for every type but 64-bit integers beyond 2^53. */
    public static double get(DataType t, ByteBuffer b, int i) {
        int base = b.position();
        return switch (t) {
            case FLOAT -> b.getFloat(base + i * 4);
            case DOUBLE -> b.getDouble(base + i * 8);
            case FLOAT16 -> Half.toFloat(b.getShort(base + i * 2));
            case BFLOAT16 -> Float.intBitsToFloat((b.getShort(base + i * 2) & 0xffff) << 16);
            case UINT64 -> unsigned(b.getLong(base + i * 8));
            default -> getLong(t, b, i);
        };
    }

    /** An unsigned 64-bit value as the nearest double (halving with a sticky bit keeps round-to-nearest-even). */
    private static double unsigned(long x) {
        return x >= 0 ? x : (double) ((x >>> 1) | (x & 1)) * 2.0;
    }

    /** Element {@code i} of an integer or boolean {@code b} (floating types are truncated toward zero; uint64 gives its bits). */
    public static long getLong(DataType t, ByteBuffer b, int i) {
        int base = b.position();
        return switch (t) {
            case INT64, UINT64 -> b.getLong(base + i * 8);
            case INT32 -> b.getInt(base + i * 4);
            case UINT32 -> b.getInt(base + i * 4) & 0xffffffffL;
            case INT16 -> b.getShort(base + i * 2);
            case UINT16 -> b.getShort(base + i * 2) & 0xffff;
            case INT8 -> b.get(base + i);
            case UINT8, BOOL -> b.get(base + i) & 0xff;
            case FLOAT, DOUBLE, FLOAT16, BFLOAT16 -> (long) get(t, b, i);
            case STRING -> throw new IllegalStateException("string elements have no numeric value");
        };
    }

    /** The first {@code n} elements as float32 (float64 rounds to nearest). */
    public static float[] toFloats(DataType t, ByteBuffer bytes, int n) {
        requireNumeric(t);
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] r = new float[n];
        if (t == DataType.FLOAT) {
            b.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(r);
            return r;
        }
        for (int i = 0; i < n; i++) {
            r[i] = (float) get(t, b, i);
        }
        return r;
    }

    /** The first {@code n} elements as int64 (floating values truncated toward zero). */
    public static long[] toLongs(DataType t, ByteBuffer bytes, int n) {
        requireNumeric(t);
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long[] r = new long[n];
        for (int i = 0; i < n; i++) {
            r[i] = getLong(t, b, i);
        }
        return r;
    }

    private static void requireNumeric(DataType t) {
        if (t == DataType.STRING) {
            throw new IllegalStateException("a string tensor has no numeric view");
        }
    }
}
