package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.io.Options;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.onnx.OnnxFormat;
import graft.surgery.Init;
import graft.surgery.Reinit;
import graft.surgery.Rename;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A re-initialised or renamed BatchNorm starts every role from its default (gamma 1, beta 0,
 * mean 0, variance 1), in surgery and in Caffe's filler path; ONNX Flatten/Reshape that change
 * the first dimension are written as Caffe Reshape layers OpenCV runs to ONNX Runtime's numbers.
 */
class CaffeBatchNormFlattenTest {
    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static Graph convBn() {
        Graph g = new Graph("t");
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(1, 3, 4, 4))));
        g.addInitializer(Weight.ofFloats("conv/weight", new long[] {2, 3, 1, 1}, random(6, 1)));
        g.nodes().add(Node.of(Op.CONV, "conv", "conv", List.of("x", "conv/weight"), List.of("c"), Map.of()));
        g.addInitializer(Weight.ofFloats("bn/scale", new long[] {2}, new float[] {2, 3}));
        g.addInitializer(Weight.ofFloats("bn/bias", new long[] {2}, new float[] {0.5f, -0.5f}));
        g.addInitializer(Weight.ofFloats("bn/mean", new long[] {2}, new float[] {1, -1}));
        g.addInitializer(Weight.ofFloats("bn/var", new long[] {2}, new float[] {4, 9}));
        g.nodes().add(Node.of(Op.BATCH_NORMALIZATION, "bn", "bn", List.of("c", "bn/scale", "bn/bias", "bn/mean", "bn/var"),
                List.of("y"), Map.of("epsilon", Attr.of(1e-5f))));
        g.outputs().add(new Value("y", null));
        ShapeInference.run(g);
        return g;
    }

    private static void assertDefaults(Graph g, String bn) {
        Node n = g.nodes().stream().filter(x -> x.op() == Op.BATCH_NORMALIZATION).findFirst().orElseThrow();
        assertThat(n.layer()).isEqualTo(bn);
        assertThat(g.initializer(n.input(1)).toFloats()).as("gamma").containsOnly(1f);
        assertThat(g.initializer(n.input(2)).toFloats()).as("beta").containsOnly(0f);
        assertThat(g.initializer(n.input(3)).toFloats()).as("mean").containsOnly(0f);
        assertThat(g.initializer(n.input(4)).toFloats()).as("variance").containsOnly(1f);
    }

    @Test
    void reinitAndRenameResetEveryBatchNormRole() {
        Graph a = convBn();
        Reinit r = new Reinit("bn", Init.HE, 0);
        r.check(a);
        r.rewire(a);
        assertDefaults(a, "bn");
        Graph b = convBn();
        Rename m = new Rename("bn", "bn_new", false, null, 0);
        m.check(b);
        m.rewire(b);
        assertDefaults(b, "bn_new");
    }

    @Test
    void caffeBatchNormAndScaleWithoutBlobsStartFromTheDefaults() throws Exception {
        Path dir = TestPaths.scratch("caffe-bn-fillers");
        Path net = dir.resolve("bn.prototxt");
        Files.writeString(net, """
                name: "bn"
                layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 4 dim: 4 } } }
                layer { name: "bn1" type: "BatchNorm" bottom: "data" top: "data" }
                layer { name: "sc1" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }
                """);
        Graph g = new CaffeFormat().read(net, Options.none());
        Node bn = g.nodes().stream().filter(x -> x.op() == Op.BATCH_NORMALIZATION).findFirst().orElseThrow();
        assertThat(g.initializer(bn.input(3)).toFloats()).as("mean").containsOnly(0f);
        assertThat(g.initializer(bn.input(4)).toFloats()).as("variance").containsOnly(1f);
        assertThat(g.initializer("sc1/scale").toFloats()).as("gamma").containsOnly(1f);
        assertThat(g.initializer("sc1/bias").toFloats()).as("beta").containsOnly(0f);
        // Caffe trains no BatchNorm blob (it forces their lr_mult to 0).
        assertThat(g.trainingOf("bn1").trainable()).isFalse();
    }

    @Test
    void batchNormTrainingStateSurvivesCaffeThroughItsScaleLayer() throws Exception {
        Path dir = TestPaths.scratch("caffe-bn-training");
        // Frozen: the Scale layer holding gamma/beta says lr_mult 0 (without a param it would train).
        Graph frozen = convBn();
        frozen.training().put("bn", graft.ir.LayerTraining.frozen());
        Path a = dir.resolve("frozen.prototxt");
        new CaffeFormat().write(frozen, a, Options.none().set("force", true));
        assertThat(CaffeTrainingStateTest.params(a, "bn_scale")).containsExactly("0.0/1.0", "0.0/1.0");
        Graph ab = new CaffeFormat().read(a, Options.none().set("weights", dir.resolve("frozen.caffemodel")));
        assertThat(ab.trainingOf("bn_scale").trainable()).isFalse();
        assertThat(graft.train.TrainingStep.trainableParams(ab)).noneMatch(w -> w.startsWith("bn"));
        // Trainable with gamma 1, beta 0 (a fresh BatchNormalization): the Scale layer is still written, so they train.
        Graph fresh = convBn();
        new Reinit("bn", Init.HE, 0).rewire(fresh);
        Path b = dir.resolve("fresh.prototxt");
        new CaffeFormat().write(fresh, b, Options.none().set("force", true));
        Graph bb = new CaffeFormat().read(b, Options.none().set("weights", dir.resolve("fresh.caffemodel")));
        assertThat(bb.initializer("bn_scale/scale").toFloats()).containsOnly(1f);
        assertThat(bb.initializer("bn_scale/bias").toFloats()).containsOnly(0f);
        assertThat(bb.trainingOf("bn_scale").trainable()).isTrue();
        // (graft's trainer does not train a Caffe Scale layer's Mul/Add constants yet: see the README.)
    }

    /** x (1,3,4,4) -> Conv 1x1 (3 -> 3) -> the given reshaping node; written as ONNX. */
    private static Path convThen(Path dir, String name, Op op, Map<String, Attr> attrs, long... shape) {
        Graph g = new Graph(name);
        g.inputs().add(new Value("x", new TensorType(DataType.FLOAT, Shape.of(1, 3, 4, 4))));
        g.addInitializer(Weight.ofFloats("conv/weight", new long[] {3, 3, 1, 1}, random(9, 2)));
        g.addInitializer(Weight.ofFloats("conv/bias", new long[] {3}, random(3, 3)));
        g.nodes().add(Node.of(Op.CONV, "conv", "conv", List.of("x", "conv/weight", "conv/bias"), List.of("c"), Map.of()));
        List<String> in = op == Op.RESHAPE ? List.of("c", "shape") : List.of("c");
        if (op == Op.RESHAPE) {
            g.addInitializer(Weight.ofLongs("shape", new long[] {shape.length}, shape));
        }
        g.nodes().add(Node.of(op, "flat", "flat", in, List.of("y"), attrs));
        g.outputs().add(new Value("y", null));
        ShapeInference.run(g);
        Path onnx = dir.resolve(name + ".onnx");
        new OnnxFormat().write(g, onnx, Options.none().set("force", true));
        return onnx;
    }

    @Test
    void flattenAndReshapeThatChangeTheFirstDimensionRunInOpenCvAsInOnnxRuntime() throws Exception {
        Path dir = TestPaths.scratch("caffe-flatten-axis");
        Tensor x = Tensor.ofFloats(new long[] {1, 3, 4, 4}, random(48, 7));
        Path input = dir.resolve("x.npy");
        Npy.write(input, DataType.FLOAT, x.shape(), x.data(), true);
        List<Object[]> cases = List.of(
                new Object[] {"flatten2", convThen(dir, "flatten2", Op.FLATTEN, Map.of("axis", Attr.of(2L))), new long[] {3, 16}},
                new Object[] {"flatten0", convThen(dir, "flatten0", Op.FLATTEN, Map.of("axis", Attr.of(0L))), new long[] {1, 48}},
                new Object[] {"reshape", convThen(dir, "reshape", Op.RESHAPE, Map.of(), 6, 8), new long[] {6, 8}});
        for (Object[] c : cases) {
            String name = (String) c[0];
            Path onnx = (Path) c[1];
            Path model = dir.resolve(name + ".caffemodel");
            Cli.Result r = Cli.run("convert", onnx.toString(), model.toString(), "--force");
            assertThat(r.code()).as(name + ": " + r.err()).isZero();
            Path proto = dir.resolve(name + ".prototxt");
            Tensor ort = CaffeOracle.ort(onnx, "x", x);
            assertThat(ort.shape()).isEqualTo((long[]) c[2]);
            Tensor cv = CaffeOracle.opencv(proto, model, input, dir);
            assertThat(cv.shape()).as(name).isEqualTo((long[]) c[2]);
            double err = CaffeOracle.relError(cv, ort);
            System.out.println(name + " ONNX -> Caffe: OpenCV vs ONNX Runtime, rel err " + err);
            assertThat(err).as(name).isLessThan(1e-6);
            Graph back = new CaffeFormat().read(proto, Options.none().set("weights", model));
            assertThat(back.type(back.outputs().get(0).name()).shape().toArray()).as(name).isEqualTo((long[]) c[2]);
        }
    }
}
