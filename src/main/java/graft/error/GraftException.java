package graft.error;

/**
 * Root of every error graft raises on purpose. Unchecked: callers that can do something
 * about a particular fault catch the precise subclass; the command line maps each
 * subclass to a documented exit code and prints {@link #getMessage()} as one line.
 *
 * <p>Message shape: {@code <what> '<name>' (<where>): <why>. <hint>.} Always one line: names
 * taken from a file (a graph, node or layer name holding a newline) have their control
 * characters escaped ({@link #oneLine}).
 */
public class GraftException extends RuntimeException {
    public GraftException(String message) {
        super(oneLine(message));
    }

    public GraftException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * The message with every control character (and Unicode's line and paragraph separators)
     * written as a Java escape (a backslash and n, r, t or u with four hex digits): the command line prints an error
     * as one line, whatever names a hostile file holds.
     */
    public static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder b = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
            if (control && b == null) {
                b = new StringBuilder(message.length() + 16).append(message, 0, i);
            }
            if (b != null) {
                if (!control) {
                    b.append(c);
                } else if (c == '\n') {
                    b.append("\\n");
                } else if (c == '\r') {
                    b.append("\\r");
                } else if (c == '\t') {
                    b.append("\\t");
                } else {
                    b.append(String.format("\\u%04x", (int) c));
                }
            }
        }
        return b == null ? message : b.toString();
    }

    /** The process exit code the command line uses for this error. */
    public int exitCode() {
        return ExitCodes.INTERNAL;
    }
}
