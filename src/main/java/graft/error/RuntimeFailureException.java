package graft.error;

/**
 * The runtime underneath (ONNX Runtime) failed while running a graph graft built or a model it had
 * accepted: not the user's input (that is refused before), so it is reported as graft's fault,
 * exit 4, with the runtime's own first line.
 */
public class RuntimeFailureException extends GraftException {
    public RuntimeFailureException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.INTERNAL;
    }
}
