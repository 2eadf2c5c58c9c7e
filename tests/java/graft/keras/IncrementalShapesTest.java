package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.Node;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Keras graph builder infers only the nodes added since its last shape query
 * ({@code ShapeInference.Incremental}) instead of the whole graph at every query. Every committed
 * Keras fixture (Keras 2 .h5 and Keras 3 .keras: the keras.applications twins, include_top=False
 * variants, Keras 3 models, same-padding files) imports to exactly the same graph either way:
 * every node (type, name, inputs, outputs, attributes), every value's type, the inputs and outputs.
 */
class IncrementalShapesTest {
    @Test
    void everyCommittedKerasFixtureImportsTheSameAsWithWholeGraphInference() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(TestPaths.fixtures().resolve("keras"))) {
            files = s.filter(p -> p.toString().endsWith(".h5") || p.toString().endsWith(".keras")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(24);
        int nodes = 0;
        for (Path f : files) {
            String incremental = canonical(KerasImporter.read(f, null));
            String whole;
            GraphBuilder.fullShapeInference = true;
            try {
                whole = canonical(KerasImporter.read(f, null));
            } finally {
                GraphBuilder.fullShapeInference = false;
            }
            assertThat(incremental).as(f.toString()).isEqualTo(whole);
            nodes += incremental.split("\n").length;
        }
        System.out.printf("%d Keras files, %d lines of nodes and types: identical%n", files.size(), nodes);
    }

    private static String canonical(Graph g) {
        List<String> lines = new ArrayList<>();
        for (Node n : g.nodes()) {
            lines.add(n.toString());
        }
        lines.add("inputs " + g.inputs().stream().map(v -> v.name() + ":" + v.type()).toList());
        lines.add("outputs " + g.outputs().stream().map(v -> v.name() + ":" + g.type(v.name())).toList());
        Map<String, String> types = new TreeMap<>();
        g.types().forEach((k, v) -> types.put(k, String.valueOf(v)));
        types.forEach((k, v) -> lines.add(k + " " + v));
        return String.join("\n", lines);
    }
}
