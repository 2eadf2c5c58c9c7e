package graft.surgery;

import graft.error.UsageException;

/**
 * An edit that cannot be carried out on this model: an unknown layer (the message names the
 * nearest layer names), a precondition that does not hold, or a result whose shapes no longer
 * fit. Exit code 2, like every request that cannot be carried out as asked.
 */
public class EditException extends UsageException {
    public EditException(String edit, String why) {
        super("edit '" + edit + "': " + why);
    }
}
