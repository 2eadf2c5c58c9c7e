package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.io.Options;
import graft.ir.Graph;
import graft.testing.Cli;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Silent-output audit finding (c), issue #14: freezing an ONNX-named layer and writing Keras
 * must give a Keras layer with {@code trainable: false} (read from the HDF5 model_config with
 * jhdf), and graft reading the file back must see it frozen.
 */
class KerasFreezeKeptTest {
    @Test
    void aFrozenOnnxLayerIsWrittenToKerasAsNotTrainable() throws Exception {
        Path onnx = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        Path out = TestPaths.scratch("keras-freeze-kept").resolve("x.h5");
        Cli.Result r = Cli.run("surgery", onnx.toString(), "--edit", "freeze /features/features.0/Conv", "-o", out.toString(), "--force");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> frozen = new ArrayList<>();
        List<String> trainable = new ArrayList<>();
        try (HdfFile f = new HdfFile(out)) {
            JsonNode cfg = new ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
            for (JsonNode l : cfg.path("config").path("layers")) {
                if (l.path("class_name").asText().equals("Conv2D")) {
                    (l.path("config").path("trainable").asBoolean(true) ? trainable : frozen).add(l.path("config").path("name").asText());
                }
            }
        }
        assertThat(frozen).hasSize(1);
        assertThat(frozen.get(0)).contains("features.0");
        assertThat(trainable).isNotEmpty();
        Graph back = new KerasFormat().read(out, Options.none());
        assertThat(back.trainingOf(frozen.get(0)).trainable()).as("read back by graft").isFalse();
        for (String t : trainable) {
            assertThat(back.trainingOf(t).trainable()).isTrue();
        }
    }
}
