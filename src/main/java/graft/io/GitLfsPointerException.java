package graft.io;

import graft.error.MalformedModelException;
import java.nio.file.Path;

/** A Git LFS pointer file where a model was expected. */
public class GitLfsPointerException extends MalformedModelException {
    private final String message;

    public GitLfsPointerException(Path file, String message) {
        super(file, message);
        this.message = oneLine(message);
    }

    @Override
    public String getMessage() {
        return message;
    }
}
