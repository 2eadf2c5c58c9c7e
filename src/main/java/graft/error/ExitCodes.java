package graft.error;

/** The exit codes documented in the README. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A validation found outputs beyond tolerance. */
    public static final int VALIDATION_FAILED = 1;
    /** Bad command line, bad recipe, an output that exists without --force. */
    public static final int USAGE = 2;
    /** A model or data file that is broken, hostile or uses something graft cannot convert. */
    public static final int BAD_INPUT = 3;
    /** A bug in graft (an exception that is not one of graft's own) or of the runtime underneath. */
    public static final int INTERNAL = 4;
    /** The environment: an output that cannot be written (permission, full disk), a native library missing. */
    public static final int ENVIRONMENT = 5;

    private ExitCodes() {
    }
}
