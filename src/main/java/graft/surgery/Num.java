package graft.surgery;

/** Numbers written the way a user types them: {@code 10}, not {@code 10.0}. */
final class Num {
    private Num() {
    }

    static String text(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    static String text(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Float.toString(v);
    }

    /** Refuses Caffe multipliers (weights, bias) that are negative or not finite, for {@code edit}. */
    static void requireMultipliers(String edit, float weights, float bias) {
        if (weights < 0 || bias < 0 || !Float.isFinite(weights) || !Float.isFinite(bias)) {
            throw new EditException(edit, "multipliers must be finite and not negative");
        }
    }
}
