package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The preprocess.* keys mean one thing everywhere: Caffe's data transformer computes
 * (pixel - mean_value[c]) * scale in BGR order; torchvision (pixel / 255 - mean[c]) / std[c].
 */
class PreprocessingTest {
    @Test
    void caffeTransformParamAndTorchvisionNormalisation() {
        Map<String, String> caffe = Map.of("preprocess.channel_order", "BGR", "preprocess.mean_value", "104,117,123",
                "preprocess.scale", "0.017");
        Preprocessing p = Preprocessing.of(caffe);
        assertThat(p.bgr()).isTrue();
        assertThat(p.apply(200, 1)).isCloseTo((200 - 117) * 0.017, within(1e-12));

        Map<String, String> torch = Map.of("preprocess.pixel_scale", "1/255", "preprocess.mean", "0.485,0.456,0.406",
                "preprocess.std", "0.229,0.224,0.225");
        assertThat(Preprocessing.of(torch).apply(51, 2)).isCloseTo((51 / 255.0 - 0.406) / 0.225, within(1e-12));

        // The image path of every command (applyChw) gives the same numbers, channels swapped to BGR.
        float[] chw = {10, 200, 30}; // one pixel, RGB
        p.applyChw(chw, 3, 0, 1);
        assertThat(chw[0]).isCloseTo((float) ((30 - 104) * 0.017), within(1e-5f)); // B first
        assertThat(chw[1]).isCloseTo((float) ((200 - 117) * 0.017), within(1e-5f));
        assertThat(chw[2]).isCloseTo((float) ((10 - 123) * 0.017), within(1e-5f));
        assertThat(Preprocessing.declared(Map.of("preprocess.input_range", "0..255"))).isFalse();
    }
}
