package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.GraftException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import graft.ir.ShapeInference;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Walks every model file of the shared corpus and of fixtures/ (hostile cases aside) through
 * import -> validate -> ONNX export -> re-import. A file either makes the whole trip or is
 * refused with graft's own one-line error (a GraftException), never with a crash.
 */
class CorpusWalkTest {
    @Test
    void everyModelFileImportsValidatesAndExportsOrIsRefusedClearly() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path root : List.of(TestPaths.corpus(), TestPaths.fixtures())) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(Files::isRegularFile).filter(p -> !p.toString().contains("/hostile/"))
                        .filter(p -> !p.toString().contains("/broken"))
                        .filter(p -> Formats.all().stream().anyMatch(f -> f.claims(p)))
                        .filter(p -> !p.getFileName().toString().endsWith("_inputs_and_outputs.h5"))
                        .sorted().forEach(files::add);
            }
        }
        assertThat(files).hasSizeGreaterThan(5);
        Path scratch = TestPaths.scratch("corpus-walk");
        ModelFormat onnx = Formats.forFile(Path.of("x.onnx"), null);
        List<String> crashes = new ArrayList<>();
        int made = 0;
        int refused = 0;
        for (Path f : files) {
            try {
                Graph g = Formats.forFile(f, null).read(f, Options.none());
                GraphValidator.check(g);
                Path out = scratch.resolve(made + "_" + f.getFileName() + ".onnx");
                onnx.write(g, out, Options.none().set("force", true));
                Graph back = onnx.read(out, Options.none());
                ShapeInference.run(back);
                GraphValidator.check(back);
                assertThat(back.parameterCount()).as(f.toString()).isEqualTo(g.parameterCount());
                made++;
            } catch (GraftException e) {
                refused++;
                assertThat(e.getMessage()).as(f.toString()).doesNotContain("\n");
            } catch (RuntimeException | AssertionError e) {
                crashes.add(f + ": " + e);
            }
        }
        System.out.println("corpus walk: " + made + " made the trip, " + refused + " refused clearly, " + crashes.size() + " crashed");
        assertThat(crashes).isEmpty();
    }
}
