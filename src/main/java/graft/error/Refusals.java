package graft.error;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The one-line list a writer refuses with: every node it cannot write, the first
 * {@link #SHOWN} named and "and N more" for the rest, so one run shows the whole job.
 */
public final class Refusals {
    public static final int SHOWN = 10;

    private Refusals() {
    }

    /** The distinct {@code items}, the first {@link #SHOWN} joined by {@code separator}, then "and N more". */
    public static String list(List<String> items, String separator) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(items));
        int shown = Math.min(distinct.size(), SHOWN);
        String s = String.join(separator, distinct.subList(0, shown));
        return distinct.size() > shown ? s + separator + "and " + (distinct.size() - shown) + " more" : s;
    }

    /**
     * Problems grouped by the node they name (the first {@code 'quoted'} name in each, as in
     * {@code Shape 's0' needs opset 15}): one entry per node, its later problems appended
     * without the repeated {@code Op 'name'} prefix. Problems that name no node stay alone.
     */
    public static List<String> byNode(List<String> problems) {
        Map<String, String> groups = new LinkedHashMap<>();
        for (String p : new LinkedHashSet<>(problems)) {
            int a = p.indexOf('\'');
            int b = a < 0 ? -1 : p.indexOf('\'', a + 1);
            if (b < 0) {
                groups.put(p, p);
                continue;
            }
            String key = p.substring(0, b + 1);
            String rest = p.substring(b + 1).replaceFirst("^[:,]?\\s*", "");
            groups.merge(key, p, (old, x) -> old + ", " + rest);
        }
        return new ArrayList<>(groups.values());
    }
}
