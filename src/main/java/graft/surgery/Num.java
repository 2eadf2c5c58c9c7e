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
}
