package graft.picture;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.math.ElkPadding;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.options.EdgeRouting;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkBendPoint;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

/**
 * Positions for a {@link LayerGraph}: ELK's layered (Sugiyama) algorithm, top to bottom, orthogonal edges,
 * crossings minimised by ELK's layer sweep. Box sizes come from the text they hold (a fixed-width estimate:
 * the SVG uses a monospace font so the estimate holds in any browser).
 */
public final class GraphLayout {
    /** Character width and line height of the box text, in SVG units (12 px monospace). */
    static final double CHAR_W = 7.3;
    static final double LINE_H = 16;
    static final double PAD = 8;

    /** A laid-out box (top-left corner and size) and an edge as a polyline. */
    public record Placed(LayerGraph.Box box, double x, double y, double w, double h) {
    }

    public record Route(LayerGraph.Edge edge, List<double[]> points) {
    }

    public record Result(List<Placed> boxes, List<Route> edges, double width, double height) {
    }

    private static boolean registered;

    private GraphLayout() {
    }

    private static synchronized void register() {
        if (!registered) {
            LayoutMetaDataService.getInstance().registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
            registered = true;
        }
    }

    /** The text lines of a box: title, ops, output shape, and a status line when there is one. */
    static List<String> lines(LayerGraph.Box b) {
        List<String> r = new ArrayList<>(List.of(b.title(), b.ops(), b.shape()));
        String tag = tag(b);
        if (!tag.isEmpty()) {
            r.add(tag);
        }
        return r;
    }

    /** The fourth line: status and trainability words ("removed", "frozen", "changed, now frozen" ...). */
    static String tag(LayerGraph.Box b) {
        List<String> t = new ArrayList<>();
        if (b.status() != LayerGraph.Status.SAME) {
            t.add(b.status().key());
        }
        if (!b.training().isEmpty()) {
            t.add(b.training().equals("multipliers") ? "lr/decay changed" : "now " + b.training());
        } else if (b.frozen()) {
            t.add("frozen");
        }
        return String.join(", ", t);
    }

    public static Result layout(LayerGraph g) {
        register();
        ElkNode root = ElkGraphUtil.createGraph();
        root.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
        root.setProperty(CoreOptions.DIRECTION, Direction.DOWN);
        root.setProperty(CoreOptions.EDGE_ROUTING, EdgeRouting.ORTHOGONAL);
        root.setProperty(CoreOptions.PADDING, new ElkPadding(20));
        root.setProperty(LayeredOptions.SPACING_NODE_NODE, 30.0);
        root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 30.0);
        Map<String, ElkNode> nodes = new HashMap<>();
        Map<ElkNode, LayerGraph.Box> boxes = new HashMap<>();
        for (LayerGraph.Box b : g.boxes()) {
            ElkNode n = ElkGraphUtil.createNode(root);
            List<String> lines = lines(b);
            int chars = lines.stream().mapToInt(String::length).max().orElse(4);
            n.setDimensions(Math.max(90, chars * CHAR_W + 2 * PAD), lines.size() * LINE_H + 2 * PAD);
            nodes.put(b.key(), n);
            boxes.put(n, b);
        }
        Map<ElkEdge, LayerGraph.Edge> edges = new HashMap<>();
        List<ElkEdge> order = new ArrayList<>();
        for (LayerGraph.Edge e : g.edges()) {
            ElkNode s = nodes.get(e.from());
            ElkNode t = nodes.get(e.to());
            if (s == null || t == null) {
                throw new IllegalStateException("edge " + e.from() + " -> " + e.to() + " names a layer with no box");
            }
            ElkEdge ee = ElkGraphUtil.createSimpleEdge(s, t);
            edges.put(ee, e);
            order.add(ee);
        }
        new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
        List<Placed> placed = new ArrayList<>();
        for (LayerGraph.Box b : g.boxes()) {
            ElkNode n = nodes.get(b.key());
            placed.add(new Placed(b, n.getX(), n.getY(), n.getWidth(), n.getHeight()));
        }
        List<Route> routes = new ArrayList<>();
        for (ElkEdge ee : order) {
            List<double[]> pts = new ArrayList<>();
            for (ElkEdgeSection s : ee.getSections()) {
                pts.add(new double[] {s.getStartX(), s.getStartY()});
                for (ElkBendPoint p : s.getBendPoints()) {
                    pts.add(new double[] {p.getX(), p.getY()});
                }
                pts.add(new double[] {s.getEndX(), s.getEndY()});
            }
            routes.add(new Route(edges.get(ee), pts));
        }
        return new Result(placed, routes, root.getWidth(), root.getHeight());
    }
}
