package graft.io;

/**
 * Phase marks of one run on stderr when {@code GRAFT_TIMING=1}: wall-clock epoch milliseconds,
 * so a script that notes the time it launched graft sees the JVM's start-up too. For
 * benchmarks, not for users.
 */
public final class Timing {
    private static final boolean ON = "1".equals(System.getenv("GRAFT_TIMING"));

    private Timing() {
    }

    /** Whether marks are printed: lets callers skip building a mark's text. */
    public static boolean on() {
        return ON;
    }

    public static void mark(String phase) {
        if (ON) {
            System.err.println("graft-timing " + System.currentTimeMillis() + " " + phase);
        }
    }
}
