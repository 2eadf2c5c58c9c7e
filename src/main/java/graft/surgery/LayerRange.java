package graft.surgery;

import graft.ir.Graph;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A set of layers, written as in Python/Keras slices over the {@code graft inspect} numbering
 * ({@code :15}, {@code 3:10}, {@code -4:}, {@code 7}), as an inclusive range of names
 * ({@code ..block4_pool}, {@code block5_conv1..}, {@code block3_conv1..block3_pool}; either bound may be
 * a number, {@code ..9}), as a glob
 * pattern ({@code block5_*}), a comma list of any of these, or {@code all}.
 */
public record LayerRange(String text) {
    private static final Pattern SLICE = Pattern.compile("(-?\\d*):(-?\\d*)");

    /** The layers the range selects, in table order; throws naming the nearest layers for an unknown name. */
    public List<String> resolve(Graph g, String edit) {
        List<String> all = Layers.names(g);
        List<String> r = new ArrayList<>();
        for (String part : text.split(",")) {
            for (String l : one(all, part.trim(), edit)) {
                if (!r.contains(l)) {
                    r.add(l);
                }
            }
        }
        if (r.isEmpty()) {
            throw new EditException(edit, "range '" + text + "' selects no layer (the model has " + all.size() + ")");
        }
        return r;
    }

    private static List<String> one(List<String> all, String p, String edit) {
        int n = all.size();
        if (p.equals("all")) {
            return all;
        }
        var m = SLICE.matcher(p);
        if (m.matches()) {
            int from = m.group(1).isEmpty() ? 0 : index(m.group(1), n);
            int to = m.group(2).isEmpty() ? n : index(m.group(2), n);
            return all.subList(Math.min(from, n), Math.max(Math.min(to, n), Math.min(from, n)));
        }
        if (p.matches("-?\\d+")) {
            int i = Integer.parseInt(p);
            int k = i < 0 ? i + n : i;
            if (k < 0 || k >= n) {
                throw new EditException(edit, "layer index " + i + " is outside 0.." + (n - 1));
            }
            return List.of(all.get(k));
        }
        if (p.contains("..")) {
            int dots = p.indexOf("..");
            String a = p.substring(0, dots);
            String b = p.substring(dots + 2);
            int from = a.isEmpty() ? 0 : position(all, a, edit);
            int to = b.isEmpty() ? n - 1 : position(all, b, edit);
            return from <= to ? all.subList(from, to + 1) : List.of();
        }
        if (p.contains("*") || p.contains("?")) {
            return all.stream().filter(l -> glob(p, l)).toList();
        }
        return List.of(all.get(position(all, p, edit)));
    }

    /**
     * Shell-style match of a whole layer name: '*' any run of characters, '?' one, everything else
     * itself (layer names hold '.', '(' and '+', which a regular expression would read as syntax).
     * Two pointers, at most pattern x name steps: no pattern a user or a file gives can make it
     * backtrack for seconds.
     */
    static boolean glob(String pattern, String name) {
        int p = 0;
        int n = 0;
        int star = -1;
        int resume = 0;
        while (n < name.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == name.charAt(n))) {
                p++;
                n++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = n;
            } else if (star >= 0) {
                p = star + 1;
                n = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }

    private static int index(String s, int n) {
        int i = Integer.parseInt(s);
        return Math.max(0, i < 0 ? i + n : i);
    }

    private static int position(List<String> all, String name, String edit) {
        return Layers.position(all, name, edit);
    }

    @Override
    public String toString() {
        return text;
    }
}
