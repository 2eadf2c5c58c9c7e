package graft.ir;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable, typed node attribute in ONNX vocabulary. {@code OPAQUE} holds an attribute a
 * format keeps verbatim (an ONNX subgraph, for instance) as serialized bytes.
 */
public final class Attr {
    public enum Kind { INT, FLOAT, STRING, INTS, FLOATS, STRINGS, TENSOR, OPAQUE }

    private final Kind kind;
    private final Object value;

    private Attr(Kind kind, Object value) {
        this.kind = kind;
        this.value = value;
    }

    public static Attr of(long v) {
        return new Attr(Kind.INT, v);
    }

    public static Attr of(float v) {
        return new Attr(Kind.FLOAT, v);
    }

    public static Attr of(String v) {
        return new Attr(Kind.STRING, v);
    }

    public static Attr ints(long... v) {
        return new Attr(Kind.INTS, v.clone());
    }

    public static Attr ints(List<Long> v) {
        return new Attr(Kind.INTS, v.stream().mapToLong(Long::longValue).toArray());
    }

    public static Attr floats(float... v) {
        return new Attr(Kind.FLOATS, v.clone());
    }

    public static Attr strings(List<String> v) {
        return new Attr(Kind.STRINGS, List.copyOf(v));
    }

    public static Attr tensor(Weight w) {
        return new Attr(Kind.TENSOR, w);
    }

    public static Attr opaque(byte[] serialized) {
        return new Attr(Kind.OPAQUE, serialized.clone());
    }

    public Kind kind() {
        return kind;
    }

    public long asInt() {
        return (Long) expect(Kind.INT);
    }

    public float asFloat() {
        if (kind == Kind.INT) {
            return (Long) value;
        }
        return (Float) expect(Kind.FLOAT);
    }

    public String asString() {
        return (String) expect(Kind.STRING);
    }

    public long[] asInts() {
        return ((long[]) expect(Kind.INTS)).clone();
    }

    public float[] asFloats() {
        return ((float[]) expect(Kind.FLOATS)).clone();
    }

    @SuppressWarnings("unchecked")
    public List<String> asStrings() {
        return (List<String>) expect(Kind.STRINGS);
    }

    public Weight asTensor() {
        return (Weight) expect(Kind.TENSOR);
    }

    public byte[] asOpaque() {
        return ((byte[]) expect(Kind.OPAQUE)).clone();
    }

    private Object expect(Kind k) {
        if (kind != k) {
            throw new IllegalStateException("attribute is " + kind + ", not " + k);
        }
        return value;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Attr a) || a.kind != kind) {
            return false;
        }
        return switch (kind) {
            case INTS -> Arrays.equals((long[]) value, (long[]) a.value);
            case FLOATS -> Arrays.equals((float[]) value, (float[]) a.value);
            case OPAQUE -> Arrays.equals((byte[]) value, (byte[]) a.value);
            case TENSOR -> value == a.value;
            default -> value.equals(a.value);
        };
    }

    @Override
    public int hashCode() {
        return kind.hashCode();
    }

    @Override
    public String toString() {
        return switch (kind) {
            case INTS -> Arrays.toString((long[]) value);
            case FLOATS -> Arrays.toString((float[]) value);
            case STRING -> "'" + value + "'";
            case OPAQUE -> "<" + ((byte[]) value).length + " bytes>";
            default -> String.valueOf(value);
        };
    }
}
