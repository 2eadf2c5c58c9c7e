package graft.validate;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.Graph;
import graft.ir.Tensor;
import graft.onnx.OnnxImporter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The per-layer walk through ONNX Runtime holds a few activations, not all: on the VGG16
 * topology every layer is a checkpoint, yet the bytes held at once stay within three times the
 * largest activation, far below the sum over all layers; and each checkpoint's value equals the
 * reference executor's (an implementation sharing no code with ONNX Runtime) within 1e-5 relative.
 */
class SegmentStepperTest {
    @Test
    void walksEveryLayerHoldingOnlyLiveActivations() {
        Graph g = OnnxImporter.read(VggFixtures.small().resolve("vgg.onnx"));
        var points = Validation.points(g);
        List<String> values = points.values().stream().map(Validation.Point::value).toList();
        Map<String, Tensor> feeds = Feeds.make(g, Map.of(), 1, new Feeds.Sizes(1, null));
        long largest = 0;
        long total = 0;
        double worst = 0;
        try (SegmentStepper s = (SegmentStepper) Engine.onnxRuntime(g).stepper(feeds, values);
             Engine.Stepper ref = Engine.reference(g).stepper(feeds, values)) {
            for (String v : values) {
                Tensor a = s.take(v);
                Tensor b = ref.take(v);
                largest = Math.max(largest, a.data().capacity());
                total += a.data().capacity();
                Metrics m = Compare.of(v, a, b, new Compare.Tolerance(0, 1e-5));
                worst = Math.max(worst, m.maxAbs() / Math.max(1e-30, peak(b)));
            }
            assertThat(s.finish().get("probabilities")).isNotNull();
            assertThat(s.segments()).isEqualTo(values.size());
            assertThat(s.peakLiveBytes()).isLessThanOrEqualTo(3 * largest).isLessThan(total / 4);
        }
        assertThat(worst).isLessThan(1e-5);
    }

    static double peak(Tensor t) {
        double p = 0;
        for (float f : t.toFloats()) {
            p = Math.max(p, Math.abs(f));
        }
        return p;
    }
}
