package graft.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A host tensor handed to or received from a runtime: type, shape, and little-endian bytes in a
 * direct buffer (ONNX Runtime reads direct native-order buffers without copying).
 */
public record Tensor(DataType dtype, long[] shape, ByteBuffer data) {
    public Tensor {
        data = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    public long count() {
        return Shape.elementCount(shape);
    }

    public static Tensor ofFloats(long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder());
        b.asFloatBuffer().put(values);
        return new Tensor(DataType.FLOAT, shape.clone(), b);
    }

    /** Seeded uniform values in [lo, hi): the same seed gives the same tensor everywhere. */
    public static Tensor random(DataType t, long[] shape, long seed) {
        int n = Math.toIntExact(Shape.elementCount(shape));
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocateDirect(n * Math.max(1, t.size())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (t) {
                case FLOAT -> b.putFloat((float) r.nextDouble(-1, 1));
                case DOUBLE -> b.putDouble(r.nextDouble(-1, 1));
                case INT64 -> b.putLong(r.nextInt(0, 10));
                case INT32 -> b.putInt(r.nextInt(0, 10));
                case UINT8 -> b.put((byte) r.nextInt(0, 256));
                case BOOL -> b.put((byte) r.nextInt(0, 2));
                case FLOAT16 -> b.putShort(graft.ir.Half.fromFloat((float) r.nextDouble(-1, 1)));
                default -> throw new IllegalArgumentException("no random values for " + t);
            }
        }
        b.flip();
        return new Tensor(t, shape.clone(), b);
    }

    public float[] toFloats() {
        return Elements.toFloats(dtype, data, Math.toIntExact(count()));
    }

    @Override
    public String toString() {
        return dtype.lowerName() + Arrays.toString(shape);
    }
}
