package graft.ir;

/**
 * The checks shape inference makes on what a file states (ranks, axes, attribute lengths,
 * sizes), each throwing {@link Inconsistent} with a message naming the fault. Only that
 * exception means "the graph is inconsistent" (exit 3); any other exception in shape inference
 * is graft's own bug.
 */
final class ShapeFaults {
    private ShapeFaults() {
    }

    /** A fault of the graph being inferred (the file's, exit 3), as opposed to a bug in graft. */
    static final class Inconsistent extends RuntimeException {
        static final long serialVersionUID = 1L;

        Inconsistent(String message) {
            super(message, null, false, false);
        }
    }

    /** Element count of a shape, -1 when symbolic; an overflow is the file's fault. */
    static long count(Shape s) {
        long n = 1;
        for (Dim d : s.dims()) {
            if (!d.isFixed()) {
                return -1;
            }
            n = mul(n, d.value());
        }
        return n;
    }

    /** The element count, or Long.MAX_VALUE when it overflows. */
    static long elementCount(long[] s) {
        long c = 1;
        for (long x : s) {
            if (x != 0 && c > Long.MAX_VALUE / x) {
                return Long.MAX_VALUE;
            }
            c *= x;
        }
        return c;
    }

    static Inconsistent fault(String message) {
        return new Inconsistent(message);
    }

    static void requireRank(Shape s, int min, String what) {
        if (s.rank() < min) {
            throw fault(what + " " + s + " has rank " + s.rank() + ", needs at least " + min);
        }
    }

    /** {@code a} as an index into {@code rank} axes or values ({@code -rank <= a < rank}, negative from the end). */
    static int axis(long a, int rank, String what) {
        long r = a < 0 ? a + rank : a;
        if (r < 0 || r >= rank) {
            throw fault(what + " " + a + " is out of range (" + -rank + " to " + (rank - 1) + ")");
        }
        return (int) r;
    }

    static long[] atLeast(long[] v, int n, String name) {
        if (v.length < n) {
            throw fault(name + " has " + v.length + " values, needs " + n);
        }
        return v;
    }

    static long mul(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw fault("a size overflows: " + a + " * " + b);
        }
    }

    static long plus(long a, long b) {
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw fault("a size overflows: " + a + " + " + b);
        }
    }

    /** A computed size, which must not be negative. */
    static Dim size(long v, String what) {
        if (v < 0) {
            throw fault(what + " comes out negative (" + v + ")");
        }
        return Dim.of(v);
    }
}
