package graft.error;

/**
 * Root of every error graft raises on purpose. Unchecked: callers that can do something
 * about a particular fault catch the precise subclass; the command line maps each
 * subclass to a documented exit code and prints {@link #getMessage()} as one line.
 *
 * <p>Message shape: {@code <what> '<name>' (<where>): <why>. <hint>.}
 */
public class GraftException extends RuntimeException {
    public GraftException(String message) {
        super(message);
    }

    public GraftException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The process exit code the command line uses for this error. */
    public int exitCode() {
        return ExitCodes.INTERNAL;
    }
}
