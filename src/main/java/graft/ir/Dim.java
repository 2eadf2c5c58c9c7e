package graft.ir;

/**
 * One dimension of a shape: a fixed size, or a symbol ({@code N}, {@code H}, or an expression
 * derived from symbols such as {@code (H-2)/2+1}) when the size is only known at run time.
 */
public record Dim(long value, String symbol) {
    public static final Dim UNKNOWN = new Dim(-1, "?");

    public Dim {
        if (symbol == null && value < 0) {
            throw new IllegalArgumentException("negative dimension " + value);
        }
    }

    public static Dim of(long value) {
        return new Dim(value, null);
    }

    public static Dim sym(String symbol) {
        return new Dim(-1, symbol);
    }

    public boolean isFixed() {
        return symbol == null;
    }

    @Override
    public String toString() {
        return isFixed() ? Long.toString(value) : symbol;
    }
}
