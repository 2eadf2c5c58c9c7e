package graft.error;

/**
 * An input the command was pointed at does not exist: a model, a weights file, a data folder,
 * an {@code --images} folder, an {@code --input} array. One cause, one exit code (3), whatever
 * kind of input it was.
 */
public class MissingInputException extends GraftException {
    public MissingInputException(String message) {
        super(message);
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
