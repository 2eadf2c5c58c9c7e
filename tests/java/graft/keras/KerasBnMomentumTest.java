package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Keras BatchNormalization's momentum becomes the node's ONNX momentum (the same convention:
 * running = running * momentum + batch * (1 - momentum)), which {@code finetune --bn train} uses:
 * keras.applications' MobileNetV2 sets 0.999, the others keep Keras's 0.99. Before, every Keras
 * BN got ONNX's default 0.9 (PyTorch's 0.1).
 */
class KerasBnMomentumTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet50_small", "mobilenetv2_small"})
    void everyBatchNormCarriesItsKerasMomentum(String model) {
        Map<String, Double> want = new HashMap<>();
        for (JsonNode l : KerasApplicationsTest.spec(model).path("model_config").path("config").path("layers")) {
            if (l.path("class_name").asText().equals("BatchNormalization")) {
                want.put(l.path("name").asText(), l.path("config").path("momentum").asDouble());
            }
        }
        Graph g = new KerasFormat().read(KerasApplicationsTest.h5(model), Options.none());
        int seen = 0;
        for (Node n : g.nodes()) {
            if (n.op() == Op.BATCH_NORMALIZATION) {
                assertThat((double) n.floatAttr("momentum", Float.NaN)).as(n.layer()).isEqualTo((float) (double) want.get(n.layer()));
                seen++;
            }
        }
        assertThat(seen).isEqualTo(want.size()).isPositive();
        System.out.println(model + ": " + seen + " BatchNormalization momenta = Keras's " + new java.util.TreeSet<>(want.values()));
    }
}
