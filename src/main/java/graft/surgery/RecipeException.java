package graft.surgery;

import graft.error.UsageException;

/**
 * A recipe with a mistake: bad YAML, an unknown edit or option, or an edit that fails on the
 * model. The message names the file, the line, the edit and the reason; nothing has been
 * written when it is thrown. Exit code 2.
 */
public class RecipeException extends UsageException {
    private final int line;

    public RecipeException(String file, int line, String why) {
        super((file.equals("--edit") ? "--edit #" + line : "recipe '" + file + "' (line " + line + ")") + ": " + why);
        this.line = line;
    }

    /** 1-based line of the offending entry, 0 when the fault is not tied to a line. */
    public int line() {
        return line;
    }
}
