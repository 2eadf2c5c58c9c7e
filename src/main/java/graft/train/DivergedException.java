package graft.train;

import graft.error.ExitCodes;
import graft.error.GraftException;

/**
 * Training stopped at the first non-finite loss: exit 1 (the run did not produce a model), the
 * message naming the epoch, the step and the likely causes. Nothing is written after it; the
 * checkpoint of the last complete epoch, all of whose losses were finite, stays as it was.
 */
public final class DivergedException extends GraftException {
    public DivergedException(String message) {
        super(message);
    }

    @Override
    public int exitCode() {
        return ExitCodes.VALIDATION_FAILED;
    }
}
