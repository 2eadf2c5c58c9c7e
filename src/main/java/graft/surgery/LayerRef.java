package graft.surgery;

import graft.error.UsageException;
import graft.ir.Graph;

/**
 * A layer named on the command line outside an edit (finetune's --freeze-upto, features'
 * --upto): a layer name, or the number 'graft inspect' shows (negative counts from the end),
 * resolved exactly as edits resolve theirs.
 */
public final class LayerRef {
    private LayerRef() {
    }

    /** The layer's name; a usage error naming {@code option} and the nearest layers or the table's range otherwise. */
    public static String resolve(Graph g, String option, String ref) {
        try {
            return Layers.resolve(g, option + " " + ref, ref);
        } catch (EditException e) {
            throw new UsageException(e.getMessage().replaceFirst("^edit '[^']*': ", option + " '" + ref + "': "));
        }
    }
}
