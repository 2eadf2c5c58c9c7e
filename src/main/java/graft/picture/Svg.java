package graft.picture;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws a laid-out {@link LayerGraph} as SVG text. Every box is a {@code <g class="box">} carrying
 * {@code data-layer} (its key), {@code data-status}, {@code data-frozen} and {@code data-training}; every
 * edge a {@code <path class="edge">} carrying {@code data-from}, {@code data-to} and {@code data-status}.
 * Tests and scripts read the picture through those attributes.
 */
public final class Svg {
    /** Box fill and outline per status; a frozen layer that is otherwise the same is grey. */
    public static final Map<LayerGraph.Status, String[]> COLOURS = Map.of(
            LayerGraph.Status.SAME, new String[] {"#e3edf9", "#3f6ea8"},
            LayerGraph.Status.CHANGED, new String[] {"#ffe9b3", "#d08700"},
            LayerGraph.Status.RENAMED, new String[] {"#ece2f7", "#7b4bb0"},
            LayerGraph.Status.ADDED, new String[] {"#d8f2d8", "#2e7d32"},
            LayerGraph.Status.REMOVED, new String[] {"#fbdada", "#c62828"});
    public static final String[] FROZEN = {"#d4d4d4", "#6b6b6b"};

    private Svg() {
    }

    public static String fill(LayerGraph.Box b) {
        return b.status() == LayerGraph.Status.SAME && b.frozen() ? FROZEN[0] : COLOURS.get(b.status())[0];
    }

    static String stroke(LayerGraph.Box b) {
        return b.status() == LayerGraph.Status.SAME && b.frozen() ? FROZEN[1] : COLOURS.get(b.status())[1];
    }

    /** A standalone SVG document. */
    public static String document(GraphLayout.Result r, String title) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + element(r, title);
    }

    /** The {@code <svg>} element alone (inlined by {@link Html}). */
    public static String element(GraphLayout.Result r, String title) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                + "viewBox=\"0 0 %.1f %.1f\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"12\">\n",
                Math.ceil(r.width()), Math.ceil(r.height()), r.width(), r.height()));
        s.append("<title>").append(esc(title)).append("</title>\n");
        s.append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
                + "orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#555\"/></marker></defs>\n");
        s.append("<rect class=\"background\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        s.append("<g class=\"edges\">\n");
        for (GraphLayout.Route e : r.edges()) {
            StringBuilder d = new StringBuilder();
            List<double[]> pts = e.points();
            for (int i = 0; i < pts.size(); i++) {
                d.append(i == 0 ? "M" : " L").append(String.format(Locale.ROOT, " %.1f %.1f", pts.get(i)[0], pts.get(i)[1]));
            }
            String colour = switch (e.edge().status()) {
                case ADDED -> COLOURS.get(LayerGraph.Status.ADDED)[1];
                case REMOVED -> COLOURS.get(LayerGraph.Status.REMOVED)[1];
                default -> "#555555";
            };
            s.append("<path class=\"edge\" data-from=\"").append(esc(e.edge().from())).append("\" data-to=\"")
                    .append(esc(e.edge().to())).append("\" data-status=\"").append(e.edge().status().key()).append("\" d=\"")
                    .append(d).append("\" fill=\"none\" stroke=\"").append(colour).append("\" stroke-width=\"1.3\"")
                    .append(e.edge().status() == LayerGraph.Status.REMOVED ? " stroke-dasharray=\"5 3\"" : "")
                    .append(" marker-end=\"url(#arrow)\"/>\n");
        }
        s.append("</g>\n<g class=\"boxes\">\n");
        for (GraphLayout.Placed p : r.boxes()) {
            LayerGraph.Box b = p.box();
            s.append("<g class=\"box\" data-layer=\"").append(esc(b.key())).append("\" data-status=\"").append(b.status().key())
                    .append("\" data-frozen=\"").append(b.frozen()).append("\" data-training=\"").append(esc(b.training()))
                    .append("\">\n");
            s.append("<title>").append(esc(b.title())).append("</title>\n");
            boolean marked = !b.training().isEmpty();
            s.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"4\" fill=\"%s\" "
                    + "stroke=\"%s\" stroke-width=\"%s\"%s/>\n", p.x(), p.y(), p.w(), p.h(), fill(b), stroke(b),
                    marked ? "3" : "1.5", b.frozen() ? " stroke-dasharray=\"6 3\"" : ""));
            List<String> lines = GraphLayout.lines(b);
            for (int i = 0; i < lines.size(); i++) {
                String cls = i == 0 ? "name" : i == 1 ? "ops" : i == 2 ? "shape" : "tag";
                s.append(String.format(Locale.ROOT, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\"%s%s>", cls, p.x() + GraphLayout.PAD,
                        p.y() + GraphLayout.PAD + (i + 0.8) * GraphLayout.LINE_H, i == 0 ? " font-weight=\"bold\"" : " fill=\"#333333\"",
                        i == 0 && b.status() == LayerGraph.Status.REMOVED ? " text-decoration=\"line-through\"" : ""));
                s.append(esc(lines.get(i))).append("</text>\n");
            }
            if (b.status() == LayerGraph.Status.REMOVED) {
                // struck out as a whole, not only the name: a diagonal line from corner to corner
                s.append(String.format(Locale.ROOT, "<line class=\"strike\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        + "stroke=\"%s\" stroke-width=\"1.2\"/>\n", p.x(), p.y() + p.h(), p.x() + p.w(), p.y(), stroke(b)));
            }
            s.append("</g>\n");
        }
        s.append("</g>\n</svg>\n");
        return s.toString();
    }

    static String esc(String t) {
        StringBuilder b = new StringBuilder(t.length());
        for (char c : t.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n') {
                        b.append(' '); // not allowed in XML 1.0
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
