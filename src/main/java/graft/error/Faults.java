package graft.error;

/**
 * Whose fault an unexpected exception is. A runtime exception raised inside a parsing library
 * (protobuf, jhdf, jackson) while it reads a file says the file is corrupt: the importer turns
 * it into a {@link MalformedModelException} (exit 3). One raised by graft's own code is a bug
 * in graft and must reach the command line as it is (exit 4), however the file looks: a file
 * graft can be made to crash on is one graft failed to check.
 */
public final class Faults {
    private Faults() {
    }

    /**
     * Whether {@code e} was thrown inside one of {@code packages} (prefixes such as
     * {@code "io.jhdf."}): its first stack frame outside the JDK (whose collections and buffers
     * a library calls into) belongs to one of them.
     */
    public static boolean thrownIn(Throwable e, String... packages) {
        for (StackTraceElement f : e.getStackTrace()) {
            String c = f.getClassName();
            if (c.startsWith("java.") || c.startsWith("javax.") || c.startsWith("jdk.") || c.startsWith("sun.")) {
                continue;
            }
            for (String p : packages) {
                if (c.startsWith(p)) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }
}
