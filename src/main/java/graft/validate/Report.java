package graft.validate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link Validation.Result} as a table for people or as JSON for machines. */
public final class Report {
    private Report() {
    }

    public static String table(Validation.Result r) {
        StringBuilder b = new StringBuilder();
        b.append("reference: ").append(r.reference()).append('\n');
        b.append("candidate: ").append(r.candidate()).append('\n');
        b.append(String.format(Locale.ROOT, "tolerance: |candidate - reference| <= %s + %s * |reference|%n",
                num(r.tolerance().atol()), num(r.tolerance().rtol())));
        if (!r.layers().isEmpty()) {
            b.append('\n').append(rows("layer", r.layers()));
            b.append(r.firstDivergingLayer() == null ? "every compared layer is within tolerance\n"
                    : "first layer beyond tolerance: " + r.firstDivergingLayer() + downstream(r) + "\n");
            if (!r.editedLayers().isEmpty()) {
                b.append("changed by the candidate's edits (graft.edits), not compared: ").append(String.join(", ", r.editedLayers())).append('\n');
            }
            if (!r.unmatchedLayers().isEmpty()) {
                List<String> u = r.unmatchedLayers();
                b.append("layers in only one model (not compared, ").append(u.size()).append("): ")
                        .append(String.join(", ", u.subList(0, Math.min(12, u.size()))))
                        .append(u.size() > 12 ? ", ... (--json lists all)" : "").append('\n');
            }
        }
        b.append('\n').append(rows("output", r.outputs()));
        b.append(r.passed() ? "PASS: within tolerance\n" : "FAIL: beyond tolerance\n");
        return b.toString();
    }

    private static String rows(String what, List<Metrics> ms) {
        int w = what.length();
        for (Metrics m : ms) {
            w = Math.max(w, m.name().length());
        }
        String fmt = "%-" + w + "s  %-18s %-11s %-9s %-9s %-9s %-9s %-5s %-5s %s%n";
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, fmt, what, "shape", "layout", "max abs", "max rel",
                "mean abs", "cosine", "top1", "top5", "result"));
        for (Metrics m : ms) {
            b.append(String.format(Locale.ROOT, fmt, m.name(), m.compared() ? shape(m.shape()) : "-", m.layout(), sci(m.maxAbs()), rel(m.maxRel()),
                    sci(m.meanAbs()), cos(m.cosine()), pct(m.top1()), pct(m.top5()),
                    !m.compared() ? m.problem() : m.problem() != null ? "INCOMPARABLE: " + m.problem() : m.within() ? "ok" : "BEYOND"));
        }
        return b.toString();
    }

    static String shape(long[] s) {
        return Arrays.toString(s).replace('[', '(').replace(']', ')');
    }

    static String sci(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2e", v);
    }

    /** " (after edited layer X: ...)" when the first divergence lies downstream of an edited layer. */
    private static String downstream(Validation.Result r) {
        String edited = null;
        for (Metrics m : r.layers()) {
            if (!m.compared() && edited == null) {
                edited = m.name();
            }
            if (m.name().equals(r.firstDivergingLayer())) {
                return edited == null ? "" : " (after the edited layer " + edited + ": the edit changed what reaches it)";
            }
        }
        return "";
    }

    /**
     * A relative error as a person reads it: small ones in scientific notation, larger ones as a
     * percentage, and beyond 10x just that (the exact ratio near a zero reference means nothing).
     */
    static String rel(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (v < 0.01) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        if (v < 10) {
            return String.format(Locale.ROOT, "%.0f%%", v * 100);
        }
        return ">10x";
    }

    static String cos(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.7f", v);
    }

    static String pct(Double v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.0f%%", v * 100);
    }

    static String num(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toString();
    }

    public static String json(Validation.Result r) {
        return json(r, null);
    }

    /** The lines of {@code validate --labels}: both accuracies and their difference; empty without labels. */
    public static String accuracy(Validation.Accuracy a) {
        if (a == null) {
            return "";
        }
        return String.format(Locale.ROOT, "%naccuracy on %d labelled samples (output %s): reference %.2f%% (%d), candidate %.2f%% (%d), "
                + "difference %+.2f points%n", a.samples(), a.output(), 100 * a.reference(), a.referenceCorrect(), 100 * a.candidate(),
                a.candidateCorrect(), 100 * (a.candidate() - a.reference()));
    }

    /** The JSON report; with {@code acc} (validate --labels) an {@code accuracy} object. */
    public static String json(Validation.Result r, Validation.Accuracy acc) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reference", r.reference());
        m.put("candidate", r.candidate());
        m.put("atol", r.tolerance().atol());
        m.put("rtol", r.tolerance().rtol());
        m.put("passed", r.passed());
        m.put("outputs", maps(r.outputs()));
        if (!r.layers().isEmpty()) {
            m.put("layers", maps(r.layers()));
            m.put("first_diverging_layer", r.firstDivergingLayer());
            m.put("unmatched_layers", r.unmatchedLayers());
        }
        if (acc != null) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("output", acc.output());
            x.put("samples", acc.samples());
            x.put("reference_correct", acc.referenceCorrect());
            x.put("candidate_correct", acc.candidateCorrect());
            x.put("reference", acc.reference());
            x.put("candidate", acc.candidate());
            m.put("accuracy", x);
        }
        return write(m);
    }

    private static List<Map<String, Object>> maps(List<Metrics> ms) {
        List<Map<String, Object>> r = new ArrayList<>();
        for (Metrics x : ms) {
            r.add(x.toMap());
        }
        return r;
    }

    static String write(Object o) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }
}
