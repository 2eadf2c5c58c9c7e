package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.error.GraftException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.GraphValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Import -> validate -> export to every format -> import again, on whatever the ONNX reader
 * accepts. A model the reader returns must pass {@link GraphValidator}; an exporter may refuse it
 * (exit 3: a format that cannot say something), but what an exporter writes must be read back by
 * graft's own reader of that format: an importer/exporter disagreement is a bug. Outputs go to the
 * iteration's folder only. Seeds and past crashes: fixtures/fuzz/roundtrip/; a campaign:
 * bench/fuzz.sh roundtrip MINUTES.
 */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class RoundTripFuzzTest {
    private static final List<ModelFormat> FORMATS = List.of(new graft.onnx.OnnxFormat(), new graft.keras.KerasFormat(),
            new graft.caffe.CaffeFormat());
    private static final List<String> NAMES = List.of("out.onnx", "out.h5", "out.prototxt");

    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            Path in = FuzzContract.write(dir, "model.onnx", data);
            Graph g = new graft.onnx.OnnxFormat().read(in, Options.none());
            List<String> problems = GraphValidator.problems(g);
            if (!problems.isEmpty()) {
                throw new AssertionError("the ONNX reader returned a graph its validator refuses: " + problems);
            }
            Path outDir = Files.createDirectories(dir.resolve("out"));
            for (int i = 0; i < FORMATS.size(); i++) {
                ModelFormat f = FORMATS.get(i);
                Path out = outDir.resolve(NAMES.get(i));
                try {
                    f.write(g, out, Options.none().set("inputs", List.of(in)));
                } catch (GraftException e) {
                    FuzzContract.accept(e, 3);
                    continue;
                }
                Options back = Options.none();
                if (f instanceof graft.caffe.CaffeFormat) {
                    back.set("weights", outDir.resolve("out.caffemodel"));
                }
                try {
                    f.read(out, back);
                } catch (GraftException e) {
                    throw new AssertionError("graft's " + f.name() + " exporter wrote a model its own reader refuses: " + e.getMessage(), e);
                }
            }
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
