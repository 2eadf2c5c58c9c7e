package graft.error;

import java.util.List;

/**
 * A well-formed model that uses something graft cannot convert. Carries every offending
 * node or layer, not just the first, so a user sees the whole list at once.
 */
public class UnsupportedModelException extends GraftException {
    private final List<String> offenders;

    public UnsupportedModelException(String message, List<String> offenders) {
        super(message);
        this.offenders = List.copyOf(offenders);
    }

    public UnsupportedModelException(String message) {
        this(message, List.of());
    }

    public List<String> offenders() {
        return offenders;
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
