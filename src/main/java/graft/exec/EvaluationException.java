package graft.exec;

import graft.error.UnsupportedModelException;

/**
 * A kernel met inputs it cannot evaluate (shapes that do not fit, an index out of range): the
 * model's or the feed's fault, which {@link Execution} reports with the node's name and inputs
 * (exit 3). Any other exception from a kernel is a bug in graft and is left to reach the
 * command line (exit 4).
 */
final class EvaluationException extends UnsupportedModelException {
    EvaluationException(String message) {
        super(message);
    }
}
