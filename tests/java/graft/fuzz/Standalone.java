package graft.fuzz;

/**
 * The fuzz target bench/fuzz.sh gives Jazzer's standalone driver: it runs the target class named
 * by {@code -Dgraft.fuzz.class=} (one of the *FuzzTest classes), after warming up on that
 * target's seeds ({@code -Dgraft.fuzz.target=}: the classes a campaign needs are loaded and
 * instrumented before libFuzzer's per-input timeout starts counting). A class of its own
 * because Jazzer's driver runs a class that holds a {@code @FuzzTest} through JUnit, which has
 * no such initialisation hook.
 */
public final class Standalone {
    private static FuzzContract.Target target;

    private Standalone() {
    }

    public static void fuzzerInitialize() throws ReflectiveOperationException {
        var m = Class.forName("graft.fuzz." + System.getProperty("graft.fuzz.class")).getMethod("fuzzerTestOneInput", byte[].class);
        target = data -> {
            try {
                m.invoke(null, (Object) data);
            } catch (java.lang.reflect.InvocationTargetException e) {
                if (e.getCause() instanceof Exception x) {
                    throw x;
                }
                throw (Error) e.getCause();
            }
        };
        FuzzContract.warmUp(System.getProperty("graft.fuzz.target"), target);
    }

    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        target.run(data);
    }

    /**
     * Replays inputs without Jazzer (bench/fuzz.sh on each timeout a campaign reports): exit 0
     * when every input keeps the contract, its 10 s clock included. A timeout that does not
     * reproduce here was the JVM loading and instrumenting classes the first input reached.
     */
    public static void main(String[] files) throws Exception {
        var m = Class.forName("graft.fuzz." + System.getProperty("graft.fuzz.class")).getMethod("fuzzerTestOneInput", byte[].class);
        int bad = 0;
        for (String f : files) {
            m.invoke(null, (Object) new byte[0]); // loads the classes of the common path
            long t0 = System.nanoTime();
            try {
                m.invoke(null, (Object) java.nio.file.Files.readAllBytes(java.nio.file.Path.of(f)));
                System.out.printf("%s: keeps the contract (%d ms)%n", f, (System.nanoTime() - t0) / 1_000_000);
            } catch (java.lang.reflect.InvocationTargetException e) {
                bad++;
                System.out.printf("%s: %s%n", f, e.getCause());
            }
        }
        System.exit(bad == 0 ? 0 : 1);
    }
}
