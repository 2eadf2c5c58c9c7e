package graft.train;

import graft.error.UsageException;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.TensorType;
import graft.ir.Value;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Cuts a model in two: the prefix up to a value (what {@code graft features} runs, and the
 * frozen part bottleneck caching runs once), and the head from that value on. Both share the
 * model's weight handles (no copy); ShapeInference must have run on the model.
 */
public final class Subgraphs {
    private Subgraphs() {
    }

    /** A frozen prefix whose single output feeds everything that trains. */
    public record Split(Graph prefix, Graph head, String boundary) {
    }

    /** The value a layer's last node produces (its first output). */
    public static String outputOf(Graph g, String layer) {
        String v = null;
        for (Node n : g.nodes()) {
            if (n.layer().equals(layer)) {
                v = n.output(0);
            }
        }
        if (v == null) {
            List<String> layers = g.layers();
            String near = layers.stream().filter(l -> l.toLowerCase().contains(layer.toLowerCase())).findFirst()
                    .orElse(layers.isEmpty() ? "" : layers.get(layers.size() - 1));
            throw new UsageException("layer '" + layer + "' (model '" + g.name() + "'): no such layer. Nearest: '" + near
                    + "'; 'graft inspect' lists them");
        }
        return v;
    }

    /** The model's nodes up to {@code value}, with that value as the only output. */
    public static Graph prefix(Graph g, String value) {
        Graph p = new Graph(g.name() + "_upto");
        p.opsets().putAll(g.opsets());
        p.inputs().addAll(g.inputs());
        Set<String> needed = new HashSet<>(Set.of(value));
        List<Node> kept = new ArrayList<>();
        for (int i = g.nodes().size() - 1; i >= 0; i--) {
            Node n = g.nodes().get(i);
            if (n.outputs().stream().anyMatch(needed::contains)) {
                kept.add(0, n);
                needed.addAll(n.inputs());
            }
        }
        p.nodes().addAll(kept);
        g.initializers().values().stream().filter(w -> needed.contains(w.name())).forEach(p::addInitializer);
        p.outputs().add(new Value(value, g.type(value)));
        p.types().putAll(g.types());
        return p;
    }

    /**
     * Splits where the frozen layers form a prefix: nothing trainable before the boundary, and
     * the trainable part reads the frozen part through one value only, produced by one layer and
     * read by the next. Empty when no such cut exists, when it would be the model's input, or
     * when it falls inside a layer.
     */
    public static Optional<Split> frozenPrefix(Graph g, List<String> trainable) {
        Set<String> live = new HashSet<>(trainable);
        List<Node> head = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.inputs().stream().anyMatch(live::contains)) {
                live.addAll(n.outputs());
                head.add(n);
            }
        }
        Set<String> frontier = new LinkedHashSet<>();
        for (Node n : head) {
            for (String in : n.inputs()) {
                if (!in.isEmpty() && !live.contains(in) && g.initializer(in) == null) {
                    frontier.add(in);
                }
            }
        }
        if (frontier.size() != 1) {
            return Optional.empty();
        }
        String b = frontier.iterator().next();
        if (g.inputs().stream().anyMatch(v -> v.name().equals(b))) {
            return Optional.empty();
        }
        // The cached bottleneck is stored per sample, so the cut must fall between two layers:
        // inside one it may hold no per-sample tensor (LocallyConnected2D's (positions, N,
        // features) between its window selector and its kernel). Compared by layer, not by the
        // batch dimension's symbol: shape inference can spell N differently after a Reshape.
        Node producer = g.producer(b);
        if (producer != null && head.stream().anyMatch(n -> n.inputs().contains(b) && n.layer().equals(producer.layer()))) {
            return Optional.empty();
        }
        TensorType bt = g.type(b);
        Graph h = new Graph(g.name() + "_head");
        h.opsets().putAll(g.opsets());
        h.inputs().add(new Value(b, bt));
        h.nodes().addAll(head);
        Set<String> used = new HashSet<>();
        head.forEach(n -> used.addAll(n.inputs()));
        g.initializers().values().stream().filter(w -> used.contains(w.name())).forEach(h::addInitializer);
        h.outputs().addAll(g.outputs());
        h.training().putAll(g.training());
        h.metadata().putAll(g.metadata());
        return Optional.of(new Split(prefix(g, b), h, b));
    }
}
