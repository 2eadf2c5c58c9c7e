package graft.exec;

import graft.error.UnsupportedModelException;
import graft.ir.DataType;
import graft.ir.Half;
import graft.ir.Tensor;
import graft.ir.Weight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense row-major array the executor computes on: floating tensors (float32, float64, float16)
 * are held as float32, integer and boolean tensors as int64; {@code dtype} remembers what the
 * graph declared so that results convert back exactly. Not thread-safe; the executor never
 * mutates an array after it is published as a value.
 */
public final class NdArray {
    final DataType dtype;
    final int[] shape;
    final float[] f;
    final long[] l;

    private NdArray(DataType dtype, int[] shape, float[] f, long[] l) {
        this.dtype = dtype;
        this.shape = shape;
        this.f = f;
        this.l = l;
    }

    static NdArray floats(DataType dtype, int[] shape, float[] data) {
        return new NdArray(dtype, shape, data, null);
    }

    static NdArray floats(int[] shape, float[] data) {
        return new NdArray(DataType.FLOAT, shape, data, null);
    }

    static NdArray longs(DataType dtype, int[] shape, long[] data) {
        return new NdArray(dtype, shape, null, data);
    }

    /** A new zero-filled array of the same kind as this one's dtype. */
    static NdArray zeros(DataType dtype, int[] shape) {
        int n = size(shape);
        return isFloatType(dtype) ? floats(dtype, shape, new float[n]) : longs(dtype, shape, new long[n]);
    }

    static boolean isFloatType(DataType t) {
        return t.isFloating();
    }

    public DataType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    boolean isFloat() {
        return f != null;
    }

    int size() {
        return f != null ? f.length : l.length;
    }

    int rank() {
        return shape.length;
    }

    double get(int i) {
        return f != null ? f[i] : l[i];
    }

    long getLong(int i) {
        return f != null ? (long) f[i] : l[i];
    }

    /** Same data under another shape (no copy). */
    NdArray reshaped(int[] newShape) {
        return new NdArray(dtype, newShape, f, l);
    }

    /** The values as int64 (shape-like inputs: Reshape shape, Slice starts, axes...). */
    long[] toLongs() {
        if (l != null) {
            return l;
        }
        long[] r = new long[f.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (long) f[i];
        }
        return r;
    }

    static int size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    static int[] toInts(long[] shape) {
        int[] r = new int[shape.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.toIntExact(shape[i]);
        }
        return r;
    }

    /** Copies a host tensor into an executor array. */
    public static NdArray of(Tensor t) {
        return decode(t.dtype(), toInts(t.shape()), t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN), t.toString());
    }

    /** Decodes a weight's final bytes (pending layout transforms applied once). */
    static NdArray of(Weight w) {
        return decode(w.dtype(), toInts(w.shape()), w.buffer(), w.name());
    }

    private static NdArray decode(DataType t, int[] shape, ByteBuffer b, String what) {
        int n = size(shape);
        return switch (t) {
            case FLOAT, DOUBLE, FLOAT16 -> floats(t, shape, graft.ir.Elements.toFloats(t, b, n));
            case INT64, UINT64, INT32, UINT32, INT16, UINT16, INT8, UINT8, BOOL -> longs(t, shape, graft.ir.Elements.toLongs(t, b, n));
            default -> throw new UnsupportedModelException("tensor '" + what + "' (reference executor): element type "
                    + t.lowerName() + " is not supported. Use ONNX Runtime for it");
        };
    }

    /** Encodes back to the declared dtype as a host tensor (a fresh direct buffer). */
    public Tensor toTensor() {
        int n = size();
        int es = Math.max(1, dtype.size());
        ByteBuffer b = ByteBuffer.allocateDirect(n * es).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (dtype) {
                case FLOAT -> b.putFloat(f[i]);
                case DOUBLE -> b.putDouble(f[i]);
                case FLOAT16 -> b.putShort(Half.fromFloat(f[i]));
                case INT64, UINT64 -> b.putLong(getLong(i));
                case INT32, UINT32 -> b.putInt((int) getLong(i));
                case INT16, UINT16 -> b.putShort((short) getLong(i));
                case INT8, UINT8 -> b.put((byte) getLong(i));
                case BOOL -> b.put((byte) (getLong(i) != 0 ? 1 : 0));
                default -> throw new IllegalStateException("no encoding for " + dtype);
            }
        }
        b.flip();
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape[i];
        }
        return new Tensor(dtype, s, b);
    }

    /** The values as float32 (a view for float arrays, a conversion otherwise). */
    float[] toFloats() {
        if (f != null) {
            return f;
        }
        float[] r = new float[l.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = l[i];
        }
        return r;
    }

    @Override
    public String toString() {
        return dtype.lowerName() + Arrays.toString(shape);
    }
}
