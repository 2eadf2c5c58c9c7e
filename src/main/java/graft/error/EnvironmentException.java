package graft.error;

/**
 * The machine, not the input nor graft, stopped the work: an output that cannot be written
 * (permission, read-only or full file system), a native library that cannot be loaded.
 */
public class EnvironmentException extends GraftException {
    public EnvironmentException(String message) {
        super(message);
    }

    public EnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.ENVIRONMENT;
    }
}
