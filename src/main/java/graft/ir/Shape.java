package graft.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** An immutable tensor shape whose dimensions may be symbolic. */
public record Shape(List<Dim> dims) {
    public Shape {
        dims = List.copyOf(dims);
    }

    public static Shape of(long... values) {
        List<Dim> d = new ArrayList<>();
        for (long v : values) {
            d.add(Dim.of(v));
        }
        return new Shape(d);
    }

    public static Shape of(Dim... dims) {
        return new Shape(Arrays.asList(dims));
    }

    public int rank() {
        return dims.size();
    }

    public Dim dim(int i) {
        return dims.get(i < 0 ? i + dims.size() : i);
    }

    public boolean isFixed() {
        return dims.stream().allMatch(Dim::isFixed);
    }

    /** The sizes when every dimension is fixed. */
    public long[] toArray() {
        long[] r = new long[dims.size()];
        for (int i = 0; i < r.length; i++) {
            if (!dims.get(i).isFixed()) {
                throw new IllegalStateException("shape " + this + " is not fixed");
            }
            r[i] = dims.get(i).value();
        }
        return r;
    }

    /** Element count, or -1 when any dimension is symbolic. */
    public long elementCount() {
        long n = 1;
        for (Dim d : dims) {
            if (!d.isFixed()) {
                return -1;
            }
            n = Math.multiplyExact(n, d.value());
        }
        return n;
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("(");
        for (int i = 0; i < dims.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(dims.get(i));
        }
        return b.append(dims.size() == 1 ? ",)" : ")").toString();
    }
}
