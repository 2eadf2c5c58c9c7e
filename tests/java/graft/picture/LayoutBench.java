package graft.picture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * ELK layout time for real DAGs of 300+ layers (bench/picture_layout.sh): the layer graphs of Keras's
 * InceptionV3 (313 layers), DenseNet121, ResNet50 and Xception, read from the architecture JSONs under
 * fixtures/keras/applications (each layer's inbound layers as edges). Prints ELK's start-up (a two-box layout in the
 * fresh JVM), then per model the first layout and the median of five more.
 */
public final class LayoutBench {
    private LayoutBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "fixtures/keras/applications");
        // ELK's start-up (class loading, option registry) on a two-box graph, apart from the layout work
        // wall time, and the main thread's CPU time: on a shared, loaded machine the wall time waits for a core,
        // the CPU time is what the same work costs on an idle one (JIT threads aside)
        java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long s0 = System.nanoTime();
        long c0 = cpu.getCurrentThreadCpuTime();
        GraphLayout.layout(new LayerGraph(List.of(box("a"), box("b")), List.of(new LayerGraph.Edge("a", "b", LayerGraph.Status.SAME))));
        System.out.printf(Locale.ROOT, "ELK start-up (2 boxes, fresh JVM) %.1f ms (main thread CPU %.1f ms)%n", (System.nanoTime() - s0) / 1e6,
                (cpu.getCurrentThreadCpuTime() - c0) / 1e6);
        for (String name : List.of("inceptionv3", "densenet121", "resnet50", "xception")) {
            LayerGraph g = read(dir.resolve(name + ".json"));
            long t0 = System.nanoTime();
            long c1 = cpu.getCurrentThreadCpuTime();
            GraphLayout.Result first = GraphLayout.layout(g);
            double cold = (System.nanoTime() - t0) / 1e6;
            double coldCpu = (cpu.getCurrentThreadCpuTime() - c1) / 1e6;
            double[] warm = new double[5];
            for (int i = 0; i < warm.length; i++) {
                long t = System.nanoTime();
                GraphLayout.layout(g);
                warm[i] = (System.nanoTime() - t) / 1e6;
            }
            java.util.Arrays.sort(warm);
            System.out.printf(Locale.ROOT, "%-12s %4d layers %4d edges  first %7.1f ms (CPU %6.1f)  median of 5 %7.1f ms  (%.0f x %.0f)%n", name,
                    g.boxes().size(), g.edges().size(), cold, coldCpu, warm[2], first.width(), first.height());
        }
    }

    private static LayerGraph.Box box(String n) {
        return new LayerGraph.Box(n, n, "Op", "?", false, LayerGraph.Status.SAME, "", Map.of());
    }

    /** A Keras functional model's layer graph from its config: one box per layer, an edge per inbound layer. */
    static LayerGraph read(Path json) throws Exception {
        JsonNode layers = new ObjectMapper().readTree(json.toFile()).path("model_config").path("config").path("layers");
        Map<String, String> classes = new LinkedHashMap<>();
        layers.forEach(l -> classes.put(l.path("name").asText(), l.path("class_name").asText()));
        List<LayerGraph.Box> boxes = new ArrayList<>();
        List<LayerGraph.Edge> edges = new ArrayList<>();
        for (JsonNode l : layers) {
            String name = l.path("name").asText();
            boxes.add(new LayerGraph.Box(name, name, classes.get(name), "(None, ?, ?, ?)", false, LayerGraph.Status.SAME, "", Map.of()));
            Set<String> from = new LinkedHashSet<>();
            inbound(l.path("inbound_nodes"), classes.keySet(), from);
            from.forEach(f -> edges.add(new LayerGraph.Edge(f, name, LayerGraph.Status.SAME)));
        }
        return new LayerGraph(boxes, edges);
    }

    /** Keras 2 lists [name, node, tensor, kwargs]; Keras 3 nests keras_history [name, node, tensor]: both start with the name. */
    private static void inbound(JsonNode n, Set<String> names, Set<String> out) {
        if (n.isArray() && n.size() > 0 && n.get(0).isTextual() && names.contains(n.get(0).asText())) {
            out.add(n.get(0).asText());
            return;
        }
        n.forEach(c -> inbound(c, names, out));
    }
}
