package graft.validate;

import graft.exec.Execution;
import graft.exec.ReferenceExecutor;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What computes a model: ONNX Runtime (over the graph exported to ONNX) or graft's own
 * reference executor. Both run a whole graph, and both walk it layer by layer through a
 * {@link Stepper} that holds only the live activations.
 */
public abstract class Engine {
    final Graph graph;

    Engine(Graph graph) {
        this.graph = graph;
    }

    public static Engine onnxRuntime(Graph g) {
        return new Ort(g);
    }

    public static Engine reference(Graph g) {
        ReferenceExecutor.checkSupported(g);
        return new Reference(g);
    }

    public Graph graph() {
        return graph;
    }

    public abstract String describe();

    /** Every graph output, by name, in declaration order. */
    public abstract Map<String, Tensor> run(Map<String, Tensor> feeds);

    /**
     * The engine held open for several runs (a folder of images compared batch by batch): ONNX
     * Runtime keeps one session; the reference executor has nothing to hold.
     */
    public Session open() {
        return this::run;
    }

    /** Runs of one engine on one model, {@link #run}'s outputs each time. */
    public interface Session extends AutoCloseable {
        Map<String, Tensor> run(Map<String, Tensor> feeds);

        @Override
        default void close() {
        }
    }

    /** A walk through the graph that can hand out the values named in {@code checkpoints}. */
    public abstract Stepper stepper(Map<String, Tensor> feeds, Collection<String> checkpoints);

    /** One walk through a graph, forward only. */
    public interface Stepper extends AutoCloseable {
        /** Runs as far as needed and returns the value (once per checkpoint). */
        Tensor take(String value);

        /** Runs to the end and returns the graph outputs. */
        Map<String, Tensor> finish();

        @Override
        default void close() {
        }
    }

    static final class Ort extends Engine {
        Ort(Graph g) {
            super(g);
        }

        @Override
        public String describe() {
            return "ONNX Runtime";
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> feeds) {
            try (Session s = open()) {
                return s.run(feeds);
            }
        }

        @Override
        public Session open() {
            OrtRunner r = Sessions.open(graph, Device.CPU);
            return new Session() {
                @Override
                public Map<String, Tensor> run(Map<String, Tensor> feeds) {
                    Map<String, Tensor> got = r.run(feeds);
                    Map<String, Tensor> out = new LinkedHashMap<>();
                    for (Value v : graph.outputs()) {
                        out.put(v.name(), got.get(v.name()));
                    }
                    return out;
                }

                @Override
                public void close() {
                    r.close();
                }
            };
        }

        @Override
        public Stepper stepper(Map<String, Tensor> feeds, Collection<String> checkpoints) {
            return new SegmentStepper(graph, feeds, checkpoints);
        }
    }

    static final class Reference extends Engine {
        Reference(Graph g) {
            super(g);
        }

        @Override
        public String describe() {
            return "reference executor";
        }

        @Override
        public Map<String, Tensor> run(Map<String, Tensor> feeds) {
            return ReferenceExecutor.run(graph, feeds);
        }

        @Override
        public Stepper stepper(Map<String, Tensor> feeds, Collection<String> checkpoints) {
            Set<String> keep = new HashSet<>(checkpoints);
            Execution e = ReferenceExecutor.start(graph, feeds, keep);
            Map<String, Integer> producer = SegmentStepper.producers(graph);
            return new Stepper() {
                @Override
                public Tensor take(String value) {
                    Integer at = producer.get(value);
                    if (at != null) {
                        e.runThrough(at);
                    }
                    Tensor t = e.tensor(value);
                    e.release(value);
                    return t;
                }

                @Override
                public Map<String, Tensor> finish() {
                    e.runThrough(graph.nodes().size() - 1);
                    Map<String, Tensor> out = new LinkedHashMap<>();
                    for (Value v : graph.outputs()) {
                        out.put(v.name(), e.tensor(v.name()));
                    }
                    return out;
                }
            };
        }
    }
}
