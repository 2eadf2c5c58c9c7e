package graft.validate;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.ShapeInference;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import graft.ir.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks a graph through ONNX Runtime one segment at a time: the nodes between two checkpoints
 * become a small graph of their own (its inputs are the activations live at the cut, its
 * outputs the activations live after it plus the checkpoint), which is exported, run and
 * closed before the next. Memory therefore holds the activations live at one cut and one
 * segment's weights, never every layer as an output at once; the whole walk computes each
 * node once.
 */
final class SegmentStepper implements Engine.Stepper {
    private final Graph g;
    private final Map<String, Tensor> live = new HashMap<>();
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final Map<String, Integer> producer;
    private final Set<String> pending;
    private final Set<String> outputs = new HashSet<>();
    private int done = -1;
    private long peakLiveBytes;
    private int segments;

    SegmentStepper(Graph g, Map<String, Tensor> feeds, Collection<String> checkpoints) {
        this.g = g;
        this.producer = producers(g);
        this.pending = new LinkedHashSet<>(checkpoints);
        live.putAll(feeds);
        List<Node> nodes = g.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).inputs()) {
                lastUse.put(in, i);
            }
        }
        for (Value v : g.outputs()) {
            outputs.add(v.name());
            lastUse.put(v.name(), Integer.MAX_VALUE);
        }
    }

    static Map<String, Integer> producers(Graph g) {
        Map<String, Integer> p = new HashMap<>();
        for (int i = 0; i < g.nodes().size(); i++) {
            for (String o : g.nodes().get(i).outputs()) {
                p.put(o, i);
            }
        }
        return p;
    }

    @Override
    public Tensor take(String value) {
        Integer at = producer.get(value);
        if (at != null && at > done) {
            advance(at);
        }
        pending.remove(value);
        Tensor t = live.get(value);
        if (lastUse.getOrDefault(value, -1) <= done && !outputs.contains(value)) {
            live.remove(value);
        }
        return t;
    }

    @Override
    public Map<String, Tensor> finish() {
        if (done < g.nodes().size() - 1) {
            advance(g.nodes().size() - 1);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Value v : g.outputs()) {
            out.put(v.name(), live.get(v.name()));
        }
        return out;
    }

    private void advance(int last) {
        List<Node> seg = g.nodes().subList(done + 1, last + 1);
        Set<String> made = new HashSet<>();
        Graph sg = new Graph(g.name() + "_segment_" + (done + 1) + "_" + last);
        sg.opsets().putAll(g.opsets());
        Set<String> ins = new LinkedHashSet<>();
        for (Node n : seg) {
            for (String in : n.inputs()) {
                if (in.isEmpty() || made.contains(in)) {
                    continue;
                }
                Weight w = g.initializer(in);
                if (w != null) {
                    sg.addInitializer(w);
                } else {
                    ins.add(in);
                }
            }
            made.addAll(n.outputs());
            sg.nodes().add(n);
        }
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (String in : ins) {
            Tensor t = live.get(in);
            if (t == null) {
                throw new IllegalStateException("segment input '" + in + "' was not computed");
            }
            if (t.dtype() == DataType.INT64 && t.count() <= 64) {
                // a shape or axes computed upstream: as a constant, shape inference evaluates it exactly
                long[] v = new long[(int) t.count()];
                t.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
                sg.addInitializer(Weight.ofLongs(in, t.shape(), v));
                continue;
            }
            sg.inputs().add(new Value(in, new TensorType(t.dtype(), Shape.of(t.shape()))));
            feeds.put(in, t);
        }
        for (Node n : seg) {
            for (String o : n.outputs()) {
                if (!o.isEmpty() && (lastUse.getOrDefault(o, -1) > last || pending.contains(o))) {
                    sg.outputs().add(new Value(o, null));
                }
            }
        }
        ShapeInference.run(sg);
        List<Value> typed = new ArrayList<>();
        for (Value v : sg.outputs()) {
            typed.add(new Value(v.name(), sg.type(v.name())));
        }
        sg.outputs().clear();
        sg.outputs().addAll(typed);
        if (!sg.outputs().isEmpty()) {
            try (OrtRunner r = Sessions.open(sg, Device.CPU)) {
                live.putAll(r.run(feeds));
            }
        }
        done = last;
        segments++;
        peakLiveBytes = Math.max(peakLiveBytes, liveBytes());
        live.keySet().removeIf(k -> lastUse.getOrDefault(k, -1) <= done && !pending.contains(k) && !outputs.contains(k));
    }

    private long liveBytes() {
        long n = 0;
        for (Tensor t : live.values()) {
            n += t.data().capacity();
        }
        return n;
    }

    /** The most activation bytes held at once (measured right after each segment ran, before dropping). */
    long peakLiveBytes() {
        return peakLiveBytes;
    }

    /** Segments run so far (one ONNX Runtime session each). */
    int segments() {
        return segments;
    }
}
