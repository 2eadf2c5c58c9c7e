package graft.error;

/** A request that cannot be carried out as asked: an existing output without --force, an unknown option value. */
public class UsageException extends GraftException {
    public UsageException(String message) {
        super(message);
    }

    @Override
    public int exitCode() {
        return ExitCodes.USAGE;
    }
}
