package graft.error;

import java.nio.file.Path;

/** A model file that cannot be read as what it claims to be: truncated, corrupted, wrong format, hostile. */
public class MalformedModelException extends GraftException {
    /** Not serialized (a Path is not): an exception that crosses JVMs (a Spark task failing on an executor) keeps its message. */
    private final transient Path file;

    public MalformedModelException(Path file, String why) {
        super("model '" + file + "': " + why);
        this.file = file;
    }

    public MalformedModelException(Path file, String why, Throwable cause) {
        super("model '" + file + "': " + why, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }

    @Override
    public int exitCode() {
        return ExitCodes.BAD_INPUT;
    }
}
