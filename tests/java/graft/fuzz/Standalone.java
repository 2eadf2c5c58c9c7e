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
}
