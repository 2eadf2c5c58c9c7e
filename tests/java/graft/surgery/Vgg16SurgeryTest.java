package graft.surgery;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.testing.Models;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Surgery on the full-size torchvision VGG16 export (528 MB, seeded weights; torch names its
 * layers by module path and exports each ReLU as its own layer): the cut at block2's pool equals
 * the original's activation, and the block1 pair with its 64 filters is replaced three ways.
 */
@Tag("slow")
class Vgg16SurgeryTest {
    static final String BLOCK1_CONV1 = "/features/features.0/Conv";
    static final String BLOCK1_CONV2 = "/features/features.2/Conv";
    static final String BLOCK2_POOL = "/features/features.9/MaxPool";

    private static Path exposing(Graph g, String value, Path file) {
        Graph c = g.copy();
        c.outputs().clear();
        c.outputs().add(new Value(value, c.type(value)));
        return Mini.write(c, file);
    }

    @Test
    void cutAndPairReplacementOnTheFullModel() {
        Path dir = TestPaths.scratch("surgery-vgg16");
        Graph g = new graft.onnx.OnnxFormat().read(Models.vgg16(), graft.io.Options.none());
        List<String> names = Layers.names(g);
        assertThat(names).contains(BLOCK1_CONV1, BLOCK1_CONV2, BLOCK2_POOL);
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {1, 3, 224, 224}, 77);

        String poolOut = Layers.output(g, BLOCK2_POOL);
        float[] want = Mini.run(exposing(g, poolOut, dir.resolve("pool.onnx")), "input", x).get(poolOut).toFloats();
        Graph cut = Surgery.on(g).cutAfter(BLOCK2_POOL).apply();
        assertThat(cut.parameterCount()).isEqualTo(260_160L);
        float[] got = Mini.run(Mini.write(cut, dir.resolve("cut.onnx")), "input", x).values().iterator().next().toFloats();
        double cutErr = Mini.relError(got, want);
        assertThat(cutErr).isLessThanOrEqualTo(1e-6);

        String pairOut = Layers.output(g, "/features/features.3/Relu");
        float[] pair = Mini.run(exposing(g, pairOut, dir.resolve("pair.onnx")), "input", x).get(pairOut).toFloats();
        Map<String, Double> errors = new LinkedHashMap<>();
        for (String mode : new String[] {"random", "compose", "fit"}) {
            Graph r = Surgery.on(g).edit("replace-conv-pair " + BLOCK1_CONV1 + " " + BLOCK1_CONV2 + " --kernel 5 --init " + mode
                    + " --calibration 4 --seed 1").apply();
            float[] y = Mini.run(exposing(r, pairOut, dir.resolve(mode + ".onnx")), "input", x).get(pairOut).toFloats();
            errors.put(mode, graft.testing.Errors.rmsRelative(y, pair));
        }
        System.out.printf(Locale.ROOT, "VGG16 (full size): cut-after block2 pool max relative error %.3g; block1 pair -> 5x5 relative RMS"
                + " error random %.4f, compose %.4f, fit %.4f%n", cutErr, errors.get("random"), errors.get("compose"), errors.get("fit"));
        assertThat(errors.get("fit")).isLessThan(errors.get("compose")).isLessThan(errors.get("random"));
    }
}
