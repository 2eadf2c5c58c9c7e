package graft.exec;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxImporter;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Models;
import graft.validate.VggFixtures;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The reference executor on VGG16 topologies against two independent implementations:
 * ONNX Runtime on the same file and PyTorch's forward pass (computed by the fixture scripts in
 * float64 for the small model, float32 by torchvision for the full one). Relative error is
 * max |a - b| / max |b| over the output.
 */
class ReferenceExecutorVggTest {
    static Tensor npy(Path p) {
        Npy.Array a = Npy.read(p);
        return new Tensor(a.dtype(), a.shape(), a.data());
    }

    static double relError(Tensor a, Tensor b) {
        return graft.testing.Errors.relativeToMagnitude(a, b);
    }

    static Tensor ort(Path model, String input, Tensor x) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            return r.run(Map.of(input, x)).values().iterator().next();
        }
    }

    @Test
    void smallVggMatchesOnnxRuntimeAndPyTorch() {
        Path dir = VggFixtures.small();
        Path model = dir.resolve("vgg.onnx");
        Tensor x = npy(dir.resolve("input.npy"));
        Graph g = OnnxImporter.read(model);
        Tensor got = ReferenceExecutor.run(g, Map.of("input_1", x)).get("probabilities");
        assertThat(got.shape()).containsExactly(1, 1000);
        assertThat(relError(got, ort(model, "input_1", x))).isLessThan(1e-5);
        assertThat(relError(got, npy(dir.resolve("torch_output.npy")))).isLessThan(1e-5);
    }

    /**
     * Full torchvision VGG16 (528 MB): within 1e-5 relative of ONNX Runtime and PyTorch, in
     * seconds. The time bound is on the process's CPU time (both cores count), which a crowded
     * build machine does not inflate the way it inflates wall time.
     */
    @Test
    @Tag("slow")
    void torchvisionVgg16MatchesOnnxRuntimeAndPyTorchInSeconds() {
        Path model = Models.vgg16();
        Tensor x = npy(model.resolveSibling("vgg16_input.npy"));
        Graph g = OnnxImporter.read(model);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        Tensor got = ReferenceExecutor.run(g, Map.of("input", x)).get("logits");
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - c0) / 1e9;
        double vsOrt = relError(got, ort(model, "input", x));
        double vsTorch = relError(got, npy(model.resolveSibling("vgg16_torch_output.npy")));
        System.out.printf("reference executor VGG16 batch 1: %.1f s wall, %.1f s CPU, rel error vs ONNX Runtime %.2e, vs PyTorch %.2e%n",
                seconds, cpu, vsOrt, vsTorch);
        assertThat(vsOrt).isLessThan(1e-5);
        assertThat(vsTorch).isLessThan(1e-5);
        assertThat(cpu).isLessThan(60);
    }
}
