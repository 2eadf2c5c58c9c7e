package graft.ir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A handle on a constant tensor: where its bytes are, their type and shape, and the layout
 * transforms still to apply. Immutable; {@link #with(LayoutTransform)} returns a new handle
 * over the same bytes.
 *
 * <p>Copies: {@link #buffer()} hands out the source bytes without copying when no transform
 * is pending; with transforms pending it makes one transformed copy per call. Callers that
 * need the bytes more than once should keep the buffer.
 */
public final class Weight {
    private final String name;
    private final DataType sourceType;
    private final long[] sourceShape;
    private final WeightData data;
    private final List<LayoutTransform> pending;

    public Weight(String name, DataType dtype, long[] shape, WeightData data) {
        this(name, dtype, shape, data, List.of());
    }

    private Weight(String name, DataType dtype, long[] shape, WeightData data, List<LayoutTransform> pending) {
        this.name = name;
        this.sourceType = dtype;
        this.sourceShape = shape.clone();
        this.data = data;
        this.pending = List.copyOf(pending);
        if (dtype.size() > 0) {
            long expected = Math.multiplyExact(Shape.elementCount(sourceShape), (long) dtype.size());
            if (expected != data.byteSize()) {
                throw new IllegalArgumentException("weight '" + name + "' of shape " + Arrays.toString(shape) + " "
                        + dtype.lowerName() + " needs " + expected + " bytes, has " + data.byteSize());
            }
        }
    }

    /** A float32 weight from an array (tests, fillers, small constants). Copies the array. */
    public static Weight ofFloats(String name, long[] shape, float[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Weight(name, DataType.FLOAT, shape, WeightData.of(b));
    }

    public static Weight ofLongs(String name, long[] shape, long[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new Weight(name, DataType.INT64, shape, WeightData.of(b));
    }

    /** An int32 weight from an array (Keras 3's Normalization count). Copies the array. */
    public static Weight ofInts(String name, long[] shape, int[] values) {
        ByteBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        return new Weight(name, DataType.INT32, shape, WeightData.of(b));
    }

    public String name() {
        return name;
    }

    public Weight renamed(String newName) {
        return new Weight(newName, sourceType, sourceShape, data, pending);
    }

    /** The element type after pending transforms. */
    public DataType dtype() {
        DataType t = sourceType;
        for (LayoutTransform lt : pending) {
            if (lt instanceof LayoutTransform.ToFloat) {
                t = DataType.FLOAT;
            }
        }
        return t;
    }

    /** The shape after pending transforms. */
    public long[] shape() {
        long[] s = sourceShape;
        for (LayoutTransform t : pending) {
            s = t.outputShape(s);
        }
        return s.clone();
    }

    public long elementCount() {
        return Shape.elementCount(sourceShape);
    }

    public long byteSize() {
        return elementCount() * dtype().size();
    }

    public List<LayoutTransform> pending() {
        return pending;
    }

    /** True when the source bytes are already what {@link #buffer()} returns. */
    public boolean isDirect() {
        return pending.isEmpty();
    }

    /**
     * This weight with one more transform pending. Two permutations in a row become one (the
     * writer's inverse of an importer's transpose cancels it: the bytes are then copied as they
     * are), and a permutation that moves nothing only changes the shape.
     */
    public Weight with(LayoutTransform transform) {
        List<LayoutTransform> p = new ArrayList<>(pending);
        if (transform instanceof LayoutTransform.Permute next && !p.isEmpty()
                && p.get(p.size() - 1) instanceof LayoutTransform.Permute last) {
            LayoutTransform.Permute joined = last.then(next);
            if (joined != null) {
                p.remove(p.size() - 1);
                transform = joined;
            }
        }
        if (transform instanceof LayoutTransform.Permute q && q.isIdentity() && p.isEmpty()
                && Arrays.equals(q.result(), sourceShape)) {
            transform = null; // back to the source layout
        }
        if (transform != null) {
            p.add(transform);
        }
        Weight w = new Weight(name, sourceType, sourceShape, data, p);
        w.shape(); // fail now, not at write time, if the transform does not fit
        return w;
    }

    /** The raw source, before transforms (for writers that keep the source layout). */
    public WeightData source() {
        return data;
    }

    /** Final bytes, little-endian, positioned at 0. No copy when nothing is pending. */
    public ByteBuffer buffer() {
        ByteBuffer b = data.buffer();
        long[] s = sourceShape;
        DataType t = sourceType;
        for (LayoutTransform lt : pending) {
            b = lt.apply(b, t, s);
            s = lt.outputShape(s);
            if (lt instanceof LayoutTransform.ToFloat) {
                t = DataType.FLOAT;
            }
        }
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Streams the final bytes to a channel: no copy when nothing is pending, and a single
     * pending permutation (HWIO to OIHW, Dense row order) goes through a small buffer.
     */
    public void writeTo(WritableByteChannel out) throws IOException {
        if (pending.size() == 1 && pending.get(0) instanceof LayoutTransform.Permute p) {
            p.stream(data.buffer(), sourceType, out);
            return;
        }
        ByteBuffer b = buffer();
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    /**
     * As {@link #writeTo(WritableByteChannel)}, gathering a permutation through the caller's
     * {@code stage} buffer (overwritten) instead of one of this thread's own.
     */
    public void writeTo(WritableByteChannel out, ByteBuffer stage) throws IOException {
        if (pending.size() == 1 && pending.get(0) instanceof LayoutTransform.Permute p) {
            p.stream(data.buffer(), sourceType, out, stage);
            return;
        }
        writeTo(out);
    }

    /** The values as float32 (converting float64/float16/integers). Copies. */
    public float[] toFloats() {
        return Elements.toFloats(dtype(), buffer(), Math.toIntExact(elementCount()));
    }

    /** The values as int64 (for shape-like constants). Copies. */
    /**
     * The tensor a Constant node holds, named after its output, whichever attribute holds it
     * ({@code value}, {@code value_int(s)}, {@code value_float(s)}); null for sparse or string values.
     */
    public static Weight ofConstant(Node c) {
        String name = c.output(0);
        Attr v = c.attr("value");
        if (v != null && v.kind() == Attr.Kind.TENSOR) {
            return v.asTensor();
        }
        if ((v = c.attr("value_int")) != null) {
            return ofLongs(name, new long[0], new long[]{v.asInt()});
        }
        if ((v = c.attr("value_ints")) != null) {
            return ofLongs(name, new long[]{v.asInts().length}, v.asInts());
        }
        if ((v = c.attr("value_float")) != null) {
            return ofFloats(name, new long[0], new float[]{v.asFloat()});
        }
        if ((v = c.attr("value_floats")) != null) {
            return ofFloats(name, new long[]{v.asFloats().length}, v.asFloats());
        }
        return null;
    }

    public long[] toLongs() {
        return Elements.toLongs(dtype(), buffer(), Math.toIntExact(elementCount()));
    }

    @Override
    public String toString() {
        return name + ":" + dtype().lowerName() + Arrays.toString(shape());
    }
}
