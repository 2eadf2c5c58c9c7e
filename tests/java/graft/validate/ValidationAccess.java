package graft.validate;

import java.util.List;

/** Test access to package-private parts of {@link Validation}. */
public final class ValidationAccess {
    private ValidationAccess() {
    }

    public static List<String> editedBy(String line) {
        return Validation.editedBy(line);
    }
}
