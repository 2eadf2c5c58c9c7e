package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.ir.Graph;
import graft.surgery.Recipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The surgery recipe parser and the edits it yields, applied to a small VGG16-topology model
 * (fixtures/surgery/vgg16_mini.onnx, the layer names of the shipped recipes). An input starting
 * with {@code --edit} is read as {@code --edit} arguments, one per line; anything else as a
 * recipe's YAML. A recipe or edit that cannot be carried out is a usage error (exit 2); one that
 * leaves the model impossible to export is exit 3. Seeds and past crashes: fixtures/fuzz/recipe/;
 * a campaign: bench/fuzz.sh recipe MINUTES.
 */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class RecipeFuzzTest {
    private static Graph model;

    private static synchronized Graph model() {
        if (model == null) {
            Path root = Path.of(System.getProperty("graft.root", "."));
            model = graft.onnx.OnnxImporter.read(root.resolve("fixtures/surgery/vgg16_mini.onnx"));
        }
        return model;
    }

    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        Graph g = model();
        FuzzContract.check(dir -> {
            String text = new String(data, StandardCharsets.UTF_8);
            Recipe r = text.startsWith("--edit\n")
                    ? Recipe.ofEdits(Arrays.asList(text.substring(7).split("\n", -1)))
                    : Recipe.parse("fuzz.yaml", text);
            r.apply(g);
        }, 2, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
