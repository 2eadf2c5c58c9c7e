package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.Errors;
import graft.testing.TestPaths;
import graft.runtime.OrtRunner;
import graft.runtime.Device;
import graft.io.Npy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * ONNX LogSoftmax to Keras (#15). Keras 3 has {@code keras.activations.log_softmax}: a
 * LogSoftmax over the last axis is written to {@code .keras} as {@code Activation('log_softmax')}
 * and graft's file, read back, gives PyTorch's saved output (the oracle,
 * {@code fixtures/onnx/make_log_softmax.py}) within 1e-5. Keras 2.2.4, the version graft's {@code .h5}
 * declares, has no such activation: refused by name, exit 3, no file. The corpus's
 * {@code output_cnn_mnist.onnx} takes its log_softmax over the batch axis (PyTorch {@code dim=0}),
 * which no Keras activation does: refused by name for {@code .keras} too.
 */
class KerasLogSoftmaxWriteTest {
    static final double TOLERANCE = 1e-5;

    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return new Tensor(a.dtype(), a.shape(), a.data());
    }

    @Test
    void logSoftmaxOverTheLastAxisIsAKeras3Activation() throws IOException {
        Path dir = TestPaths.fixtures().resolve("onnx");
        Path scratch = TestPaths.scratch("keras-log-softmax");
        Path keras = scratch.resolve("head.keras");
        Cli.Result r = Cli.run("convert", "--force", dir.resolve("log_softmax_head.onnx").toString(), keras.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode config;
        try (ZipFile z = new ZipFile(keras.toFile()); InputStream in = z.getInputStream(z.getEntry("config.json"))) {
            config = new ObjectMapper().readTree(in);
        }
        JsonNode last = null;
        for (JsonNode l : config.path("config").path("layers")) {
            last = l;
        }
        assertThat(last.path("class_name").asText()).isEqualTo("Activation");
        assertThat(last.path("config").path("activation").asText()).isEqualTo("log_softmax");

        Path back = scratch.resolve("head_back.onnx");
        Cli.Result r2 = Cli.run("convert", "--force", keras.toString(), back.toString());
        assertThat(r2.code()).as(r2.err()).isZero();
        Tensor x = npy(dir.resolve("log_softmax_head_input_nhwc.npy"));
        Tensor torch = npy(dir.resolve("log_softmax_head_torch_output.npy"));
        Map<String, Tensor> out;
        try (OrtRunner ort = OrtRunner.open(back, Device.CPU)) {
            out = ort.run(Map.of("input", x));
        }
        double err = Errors.relativeToMagnitude(out.values().iterator().next(), torch);
        System.out.printf("log_softmax head: graft's .keras read back vs PyTorch: %.1e relative%n", err);
        assertThat(err).isLessThanOrEqualTo(TOLERANCE);
    }

    @Test
    void keras2AndTheBatchAxisAreRefusedByName() {
        Path scratch = TestPaths.scratch("keras-log-softmax");
        Path h5 = scratch.resolve("head.h5");
        Cli.Result r = Cli.run("convert", "--force", TestPaths.fixtures().resolve("onnx/log_softmax_head.onnx").toString(), h5.toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("LogSoftmax").contains("Keras 2.2.4").contains("write .keras");
        assertThat(Files.exists(h5)).isFalse();

        Path mnist = TestPaths.corpus().resolve("onnx/output_cnn_mnist.onnx");
        TestPaths.assumeExists(mnist, "the shared ONNX corpus");
        Path k = scratch.resolve("mnist.keras");
        Cli.Result r2 = Cli.run("convert", "--force", mnist.toString(), k.toString());
        assertThat(r2.code()).isEqualTo(3);
        assertThat(r2.err()).contains("LogSoftmax_15").contains("the batch axis");
        assertThat(Files.exists(k)).isFalse();
    }
}
