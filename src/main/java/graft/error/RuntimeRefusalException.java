package graft.error;

/**
 * ONNX Runtime refuses to open a model graft was given (an operator or type it does not
 * implement, a graph it rejects): the input cannot be run here, exit 3, with the runtime's reason.
 */
public class RuntimeRefusalException extends GraftException {
    public RuntimeRefusalException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
