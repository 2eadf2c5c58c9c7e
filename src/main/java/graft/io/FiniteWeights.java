package graft.io;

import graft.error.GraftException;
import graft.error.ExitCodes;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Weight;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one check over a model's weights that every write step runs: a float weight holding NaN
 * or Inf is never written (a model that computes NaN is not a result), unless the caller passes
 * {@code allow-nonfinite} (convert's {@code --allow-nonfinite}). Also the census that
 * {@code inspect} prints.
 */
public final class FiniteWeights {
    private FiniteWeights() {
    }

    /** A weight with non-finite values: how many NaN and how many +-Inf. */
    public record Bad(String weight, long nan, long inf) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "'%s' (%d NaN, %d Inf)", weight, nan, inf);
        }
    }

    /** Refused write: exit 3, the weights named. */
    public static final class NonFiniteException extends GraftException {
        public NonFiniteException(String message) {
            super(message);
        }

        @Override
        public int exitCode() {
            return ExitCodes.BAD_INPUT;
        }
    }

    /** Every float weight (float32, float64, float16) holding NaN or Inf, in initializer order. */
    public static List<Bad> census(Graph g) {
        List<Bad> r = new ArrayList<>();
        for (Weight w : g.initializers().values()) {
            DataType t = w.dtype();
            if (t != DataType.FLOAT && t != DataType.DOUBLE && t != DataType.FLOAT16) {
                continue;
            }
            long nan = 0;
            long inf = 0;
            // layout transforms move values, they do not change them: scan the source bytes
            boolean sameType = w.pending().stream().noneMatch(x -> x instanceof graft.ir.LayoutTransform.ToFloat);
            if (t == DataType.FLOAT && sameType) {
                ByteBuffer b = w.source().buffer().duplicate().order(ByteOrder.LITTLE_ENDIAN);
                int n = Math.toIntExact(w.elementCount());
                for (int i = 0; i < n; i++) {
                    float v = b.getFloat(b.position() + i * 4);
                    if (!Float.isFinite(v)) {
                        if (Float.isNaN(v)) {
                            nan++;
                        } else {
                            inf++;
                        }
                    }
                }
            } else {
                for (float v : w.toFloats()) {
                    if (Float.isNaN(v)) {
                        nan++;
                    } else if (Float.isInfinite(v)) {
                        inf++;
                    }
                }
            }
            if (nan + inf > 0) {
                r.add(new Bad(w.name(), nan, inf));
            }
        }
        return r;
    }

    /** One line for {@code inspect}, or null when every weight is finite. */
    public static String summary(Graph g) {
        List<Bad> bad = census(g);
        if (bad.isEmpty()) {
            return null;
        }
        return "Non-finite weights: " + bad.size() + " tensor(s): " + describe(bad);
    }

    /** Throws {@link NonFiniteException} naming the weights when a float weight holds NaN or Inf. */
    public static void require(Graph g, Path target, Options o) {
        if (o != null && o.flag("allow-nonfinite")) {
            return;
        }
        List<Bad> bad = census(g);
        if (!bad.isEmpty()) {
            throw new NonFiniteException("model '" + target + "' (not written): " + bad.size() + " weight tensor(s) hold NaN or Inf: "
                    + describe(bad) + ". A source with such weights converts only with --allow-nonfinite");
        }
    }

    private static String describe(List<Bad> bad) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(3, bad.size()); i++) {
            s.append(i == 0 ? "" : ", ").append(bad.get(i));
        }
        if (bad.size() > 3) {
            s.append(" and ").append(bad.size() - 3).append(" more");
        }
        return s.toString();
    }
}
