package graft.io;

/**
 * Phase marks of one run on stderr when {@code GRAFT_TIMING=1} (with {@code =2} also one mark
 * per weight written): wall-clock epoch milliseconds, so a script that notes the time it
 * launched graft sees the JVM's start-up too. For benchmarks, not for users.
 */
public final class Timing {
    private static final int LEVEL = level(System.getenv("GRAFT_TIMING"));
    private static final boolean ON = LEVEL >= 1;

    private Timing() {
    }

    private static int level(String v) {
        return "2".equals(v) ? 2 : "1".equals(v) ? 1 : 0;
    }

    /** Whether per-weight marks are printed: lets callers skip building a mark's text. */
    public static boolean detailed() {
        return LEVEL >= 2;
    }

    public static void mark(String phase) {
        if (ON) {
            System.err.println("graft-timing " + System.currentTimeMillis() + " " + phase);
        }
    }

    /** A per-weight mark ({@code GRAFT_TIMING=2}). */
    public static void detail(String what) {
        if (LEVEL >= 2) {
            mark(what);
        }
    }
}
