package graft.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Errors;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code convert --fp16} (issue #17): weights exactly numpy's {@code astype(float16)}, the file
 * accepted by {@code onnx.checker} (full) and run by ONNX Runtime, outputs close to the float32
 * model's on 256 seeded inputs, the kept-float32 ops behind Casts, and one-line refusals.
 */
class Fp16Test {
    static final Path ORACLE = TestPaths.fixtures().resolve("deploy/fp16_oracle.py");

    static float[] row(float[] all, int r, int k) {
        return java.util.Arrays.copyOfRange(all, r * k, (r + 1) * k);
    }

    static int argmax(float[] v) {
        int b = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[b]) {
                b = i;
            }
        }
        return b;
    }

    /** Converts, checks the file with the onnx package and numpy, and compares 256 seeded inputs with the float32 model. */
    static double[] halve(Path src, String name, long[] inShape, boolean keepIo) throws Exception {
        Path dir = TestPaths.scratch("fp16-" + name);
        Path half = dir.resolve(name + "_fp16.onnx");
        Cli.Result c = keepIo ? Cli.run("convert", src.toString(), half.toString(), "--fp16")
                : Cli.run("convert", src.toString(), half.toString(), "--fp16", "--no-keep-io-float32");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("float16:").contains("weight tensors halved");
        String w = Python.run(ORACLE, "weights", src.toString(), half.toString());
        assertThat(w).startsWith("halved");
        assertThat(Integer.parseInt(w.trim().split(" ")[1])).isGreaterThan(0);
        Path list = dir.resolve("list.txt");
        Files.writeString(list, half + "\n");
        assertThat(Python.run(TestPaths.fixtures().resolve("onnx/check_onnx.py"), list.toString())).startsWith("OK");

        long[] shape = inShape.clone();
        shape[0] = 256;
        Tensor x = Tensor.random(DataType.FLOAT, shape, 17);
        Tensor a;
        Tensor b;
        try (OrtRunner r = OrtRunner.open(src, Device.CPU)) {
            a = r.run(Map.of(r.inputs().keySet().iterator().next(), x)).values().iterator().next();
        }
        try (OrtRunner r = OrtRunner.open(half, Device.CPU)) {
            var spec = r.inputs().values().iterator().next();
            assertThat(spec.dtype()).isEqualTo(keepIo ? DataType.FLOAT : DataType.FLOAT16);
            Tensor in = keepIo ? x : halfOf(x);
            b = r.run(Map.of(r.inputs().keySet().iterator().next(), in)).values().iterator().next();
            assertThat(b.dtype()).isEqualTo(keepIo ? DataType.FLOAT : DataType.FLOAT16);
        }
        float[] fa = a.toFloats();
        float[] fb = b.toFloats();
        int k = fa.length / 256;
        int agree = 0;
        for (int i = 0; i < 256; i++) {
            agree += argmax(row(fa, i, k)) == argmax(row(fb, i, k)) ? 1 : 0;
        }
        double err = Errors.relativeToMagnitude(new Tensor(DataType.FLOAT, a.shape(), floatBytes(fb)), a);
        System.out.printf("fp16 %s: max error relative to the output's magnitude %.3g, top-1 agreement %d/256%n", name, err, agree);
        return new double[] {err, agree / 256.0};
    }

    static java.nio.ByteBuffer floatBytes(float[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(v.length * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    static Tensor halfOf(Tensor x) {
        float[] v = x.toFloats();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(v.length * 2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putShort(graft.ir.Half.fromFloat(f));
        }
        return new Tensor(DataType.FLOAT16, x.shape(), b.flip());
    }

    @Test
    void smallVggHalvesExactlyAndAgreesWithFloat32() throws Exception {
        double[] r = halve(TestPaths.fixtures().resolve("onnx/small_vgg.onnx"), "small_vgg", new long[] {1, 3, 32, 32}, true);
        assertThat(r[0]).isLessThan(1e-2);
        assertThat(r[1]).isGreaterThanOrEqualTo(0.95);
    }

    /** BatchNormalization stays float32 behind Casts; inputs and outputs float16 on request. */
    @Test
    void batchNormStaysFloat32AndHalfInputsWork() throws Exception {
        Path src = TestPaths.fixtures().resolve("surgery/bn_mini.onnx");
        double[] r = halve(src, "bn_mini", new long[] {1, 3, 32, 32}, false);
        assertThat(r[0]).isLessThan(1e-2);
        Path out = TestPaths.scratch("fp16-bn_mini").resolve("again.onnx");
        Cli.Result c = Cli.run("convert", src.toString(), out.toString(), "--fp16");
        assertThat(c.out()).contains("kept in float32: BatchNormalization x3, Softmax x1");
    }

    /** torchvision ResNet-18 and MobileNetV2 exported by PyTorch (seeded random weights, BatchNorm folded by the exporter, Clip as ReLU6). */
    @Test
    void torchvisionModelsHalve() throws Exception {
        Path dir = TestPaths.root().resolve("target/torchvision");
        // sizes as TorchvisionOpsetTest makes them (the script keeps what it wrote); shufflenet's ReduceMean stays float32,
        // upsample_cnn's Resize follows its input
        for (String m : List.of("resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0", "upsample_cnn")) {
            int size = m.equals("upsample_cnn") ? 16 : 64;
            Python.run(TestPaths.fixtures().resolve("onnx/make_torchvision.py"), dir.toString(), m + ":" + size);
            double[] r = halve(dir.resolve(m + ".onnx"), m, new long[] {1, 3, size, size}, true);
            assertThat(r[0]).as(m).isLessThan(2e-2);
            assertThat(r[1]).as(m).isGreaterThanOrEqualTo(0.9);
        }
    }

    @Test
    void whatCannotBeHalvedIsRefusedInOneLine() throws Exception {
        Path dir = TestPaths.scratch("fp16-refused");
        Path beyond = dir.resolve("beyond.onnx");
        Python.run(ORACLE, "beyond", beyond.toString());
        Path out = dir.resolve("out.onnx");
        Cli.Result c = Cli.run("convert", beyond.toString(), out.toString(), "--fp16");
        assertThat(c.code()).as(c.err()).isEqualTo(3);
        assertThat(c.err()).contains("'w' (max |w| 100000)").contains("65504");
        assertThat(c.err().strip().lines().count()).isEqualTo(1);
        assertThat(out).doesNotExist();

        Path half = dir.resolve("half.onnx");
        assertThat(Cli.run("convert", TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString(), half.toString(), "--fp16").code()).isZero();
        Cli.Result twice = Cli.run("convert", half.toString(), out.toString(), "--fp16");
        assertThat(twice.code()).isEqualTo(2);
        assertThat(twice.err()).contains("already float16");
        assertThat(out).doesNotExist();

        for (String ext : List.of("h5", "prototxt")) {
            Path o = dir.resolve("out." + ext);
            Cli.Result k = Cli.run("convert", TestPaths.fixtures().resolve("onnx/small_vgg.onnx").toString(), o.toString(), "--fp16");
            assertThat(k.code()).isEqualTo(2);
            assertThat(k.err()).contains("no float16 path");
            assertThat(o).doesNotExist();
        }
    }
}
