package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The graft.layers and graft.training entries, written with jackson-core's streaming generator,
 * are JSON that Python's onnx and json modules read back to the same values, and graft reads
 * them back into the same IR; a damaged entry changes nothing and is kept aside.
 */
class MetadataJsonTest {
    private static final Path MODEL = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
    private static final Path ORACLE = TestPaths.fixtures().resolve("onnx/read_metadata.py");

    @Test
    void entriesRoundTripAndMatchPythonJson() {
        Graph g = OnnxImporter.read(MODEL);
        Node first = g.nodes().get(0);
        String layer = "block \"1\" \u00e9";
        g.nodes().set(0, first.withName(first.name(), layer));
        g.training().put(layer, new LayerTraining(false, List.of(0.5f, 2f), List.of(1f, 0f)));
        g.training().put("fc", new LayerTraining(true, List.of(10f), List.of()));
        Path out = TestPaths.scratch("metadata-json").resolve("m.onnx");
        OnnxExporter.write(g, out, OnnxExporter.Settings.defaults());

        String py = Python.run(ORACLE, out.toString());
        assertThat(py.lines().toList()).containsExactlyInAnyOrder(
                "graft.layers\t{\"" + first.name() + "\": \"block \\\"1\\\" \\u00e9\"}",
                "graft.training\t{\"block \\\"1\\\" \\u00e9\": {\"decay_mult\": [1.0, 0.0], \"lr_mult\": [0.5, 2.0],"
                        + " \"trainable\": false}, \"fc\": {\"decay_mult\": [], \"lr_mult\": [10.0], \"trainable\": true}}");

        Graph back = OnnxImporter.read(out);
        assertThat(back.nodes().get(0).layer()).isEqualTo(layer);
        assertThat(back.training()).containsExactlyEntriesOf(g.training());
        assertThat(back.metadata()).doesNotContainKeys(LayerMetadata.KEY, TrainingMetadata.KEY);
    }

    @Test
    void damagedEntriesChangeNothingAndAreKeptAside() {
        Graph g = new Graph("g");
        g.metadata().put(TrainingMetadata.KEY, "{\"a\": {\"trainable\": false}, \"b\": {\"lr_mult\": [1,");
        g.metadata().put(LayerMetadata.KEY, "{\"n\": ");
        TrainingMetadata.read(g);
        LayerMetadata.read(g);
        assertThat(g.training()).isEmpty();
        assertThat(g.metadata()).containsKeys(TrainingMetadata.KEY + ".unreadable", LayerMetadata.KEY + ".unreadable");
    }
}
