package graft.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import graft.ir.Tensor;
import graft.testing.TestPaths;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ONNX Runtime's own error text reaches the user whole, on one line (issue #14.6). */
class OrtMessageTest {
    @Test
    void aRunErrorKeepsOnnxRuntimesWholeSentence() {
        try (OrtRunner r = OrtRunner.open(TestPaths.fixtures().resolve("cli/ir3_fixed.onnx"), Device.CPU)) {
            Throwable t = catchThrowable(() -> r.run(Map.of("x", Tensor.ofFloats(new long[]{2, 3, 8, 8}, new float[2 * 3 * 8 * 8]))));
            assertThat(t).isNotNull();
            // ONNX Runtime 1.22 spreads this over three lines; the first alone stops at "indices"
            assertThat(t.getMessage()).contains("Got: 2").contains("Expected: 1").doesNotContain("\n");
        }
    }
}
