package graft.surgery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads one edit as written after {@code --edit} or in a recipe: a verb, its arguments, then
 * {@code --option value} pairs. Throws {@link IllegalArgumentException} with a message that says
 * what is wrong and what was expected; the caller adds where (line, option).
 */
public final class EditParser {
    /** Every verb with its usage, as {@code graft surgery --help} prints it. */
    public static final Map<String, String> USAGE = new LinkedHashMap<>();

    static {
        USAGE.put("pop", "pop N");
        USAGE.put("cut-after", "cut-after LAYER");
        USAGE.put("cut-before", "cut-before LAYER");
        USAGE.put("remove", "remove LAYER");
        USAGE.put("insert-after", "insert-after LAYER SPEC [--init I] [--seed S]");
        USAGE.put("replace", "replace LAYER SPEC [--init I] [--seed S]");
        USAGE.put("attach-head", "attach-head SPEC, SPEC, ... [--init I] [--seed S]");
        USAGE.put("set-classes", "set-classes K [--init I] [--seed S]");
        USAGE.put("rename", "rename LAYER NEW [--keep-weights] [--init I] [--seed S]");
        USAGE.put("reinit", "reinit LAYER --init he|glorot|gaussian:STD|zeros [--seed S]");
        USAGE.put("set-input-shape", "set-input-shape HxWxC | N,C,H,W");
        USAGE.put("set-batch", "set-batch N|dynamic");
        USAGE.put("rename-input", "rename-input OLD NEW");
        USAGE.put("rename-output", "rename-output OLD NEW");
        USAGE.put("expose", "expose LAYER [LAYER ...]");
        USAGE.put("replace-conv-pair", "replace-conv-pair A B --kernel K --init random|compose|fit [--calibration DIR|N] [--seed S]");
        USAGE.put("freeze", "freeze RANGE");
        USAGE.put("unfreeze", "unfreeze RANGE");
        USAGE.put("lr-mult", "lr-mult LAYER W B");
        USAGE.put("decay-mult", "decay-mult LAYER W B");
        USAGE.put("fold-batchnorm", "fold-batchnorm");
        USAGE.put("simplify", "simplify");
    }

    private EditParser() {
    }

    public static Edit parse(String text) {
        List<String> words = new ArrayList<>();
        Map<String, String> opts = new LinkedHashMap<>();
        String[] t = text.trim().split("\\s+");
        if (t.length == 0 || t[0].isEmpty()) {
            throw new IllegalArgumentException("empty edit");
        }
        for (int i = 0; i < t.length; i++) {
            if (t[i].startsWith("--")) {
                String key = t[i].substring(2);
                if (key.equals("keep-weights")) {
                    opts.put(key, "true");
                } else if (i + 1 < t.length && !t[i + 1].startsWith("--")) {
                    opts.put(key, t[++i]);
                } else {
                    throw new IllegalArgumentException("option " + t[i] + " needs a value");
                }
            } else {
                words.add(t[i]);
            }
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("no edit before the options; known edits: " + String.join(", ", USAGE.keySet()));
        }
        String verb = words.remove(0).toLowerCase(Locale.ROOT);
        String usage = USAGE.get(verb);
        if (usage == null) {
            throw new IllegalArgumentException("unknown edit '" + verb + "'; known: " + String.join(", ", USAGE.keySet()));
        }
        Edit e = build(verb, words, opts, usage);
        if (!opts.isEmpty()) {
            throw new IllegalArgumentException("option --" + opts.keySet().iterator().next() + " does not apply; usage: " + usage);
        }
        return e;
    }

    private static Edit build(String verb, List<String> w, Map<String, String> o, String usage) {
        switch (verb) {
            case "pop":
                args(w, 1, usage);
                return new Pop((int) integer(w.get(0), "N"));
            case "cut-after":
                args(w, 1, usage);
                return new CutAfter(w.get(0));
            case "cut-before":
                args(w, 1, usage);
                return new CutBefore(w.get(0));
            case "remove":
                args(w, 1, usage);
                return new Remove(w.get(0));
            case "insert-after":
            case "replace": {
                if (w.size() < 2) {
                    throw new IllegalArgumentException("usage: " + usage);
                }
                LayerSpec s = LayerSpec.parse(String.join(" ", w.subList(1, w.size())));
                Init i = init(o.remove("init"), false);
                long seed = seed(o.remove("seed"));
                return verb.equals("replace") ? new Replace(w.get(0), s, i, seed) : new InsertAfter(w.get(0), s, i, seed);
            }
            case "attach-head": {
                List<LayerSpec> specs = new ArrayList<>();
                for (String part : String.join(" ", w).split(",")) {
                    if (!part.isBlank()) {
                        specs.add(LayerSpec.parse(part));
                    }
                }
                if (specs.isEmpty()) {
                    throw new IllegalArgumentException("usage: " + usage);
                }
                return new AttachHead(specs, init(o.remove("init"), false), seed(o.remove("seed")));
            }
            case "set-classes":
                args(w, 1, usage);
                return new SetClasses(integer(w.get(0), "K"), init(o.remove("init"), false), seed(o.remove("seed")));
            case "rename":
                args(w, 2, usage);
                return new Rename(w.get(0), w.get(1), o.remove("keep-weights") != null, init(o.remove("init"), false), seed(o.remove("seed")));
            case "reinit":
                args(w, 1, usage);
                return new Reinit(w.get(0), init(o.remove("init"), true), seed(o.remove("seed")));
            case "set-input-shape":
                args(w, 1, usage);
                return new SetInputShape(w.get(0));
            case "set-batch":
                args(w, 1, usage);
                return new SetBatch(w.get(0));
            case "rename-input":
                args(w, 2, usage);
                return new RenameInput(w.get(0), w.get(1));
            case "rename-output":
                args(w, 2, usage);
                return new RenameOutput(w.get(0), w.get(1));
            case "expose":
                if (w.isEmpty()) {
                    throw new IllegalArgumentException("usage: " + usage);
                }
                return new Expose(w);
            case "replace-conv-pair": {
                args(w, 2, usage);
                String k = o.remove("kernel");
                String mode = o.remove("init");
                if (k == null || mode == null) {
                    throw new IllegalArgumentException("--kernel and --init are required; usage: " + usage);
                }
                if (!List.of("random", "compose", "fit").contains(mode)) {
                    throw new IllegalArgumentException("--init '" + mode + "' is none of random, compose, fit");
                }
                return new ReplaceConvPair(w.get(0), w.get(1), (int) integer(k, "--kernel"), mode, o.remove("calibration"), seed(o.remove("seed")));
            }
            case "freeze":
            case "unfreeze":
                args(w, 1, usage);
                return verb.equals("freeze") ? new Freeze(new LayerRange(w.get(0))) : new Unfreeze(new LayerRange(w.get(0)));
            case "lr-mult":
            case "decay-mult": {
                args(w, 3, usage);
                float a = number(w.get(1));
                float b = number(w.get(2));
                return verb.equals("lr-mult") ? new LrMult(w.get(0), a, b) : new DecayMult(w.get(0), a, b);
            }
            case "simplify":
                args(w, 0, usage);
                return new Simplify(true);
            default:
                args(w, 0, usage);
                return new FoldBatchNorm();
        }
    }

    private static void args(List<String> w, int n, String usage) {
        if (w.size() != n) {
            throw new IllegalArgumentException("takes " + n + " argument" + (n == 1 ? "" : "s") + ", got " + w.size() + "; usage: " + usage);
        }
    }

    private static long integer(String s, String what) {
        try {
            long v = Long.parseLong(s);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " '" + s + "' is not a positive integer");
    }

    private static float number(String s) {
        try {
            return Float.parseFloat(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number");
        }
    }

    private static long seed(String s) {
        if (s == null) {
            return 0;
        }
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed '" + s + "' is not an integer");
        }
    }

    private static Init init(String s, boolean required) {
        if (s == null) {
            if (required) {
                throw new IllegalArgumentException("--init is required (he, glorot, gaussian:STD, zeros)");
            }
            return null;
        }
        Init i = Init.parse(s);
        if (i == null) {
            throw new IllegalArgumentException("--init '" + s + "' is none of he, glorot, gaussian:STD, zeros");
        }
        return i;
    }
}
