package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;

/**
 * A version-2 HDF5 object header gives each message a 2-byte size; jhdf 0.9.4's encoder writes a
 * longer attribute message with the size truncated, and no reader opens the file (h5py: "bad flag
 * combination for message"; seen with a ResNet50 recipe's 62,559-character model_config, which
 * the writer's 60,000-byte check let through, and a 60,000-character one makes a 66,000-byte
 * message too). The Keras writers' HDF5 code measures each string attribute's message: one
 * over 65,535 bytes goes to a global heap as a variable-length string (as h5py 3 writes it);
 * a string array that long is refused instead of written. Read back with jhdf's reader.
 */
class KerasH5HeaderLimitTest {
    static Path write(Keras3Hdf.Group g, String name) throws Exception {
        Path p = TestPaths.scratch("keras-h5-header").resolve(name);
        Files.deleteIfExists(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            Keras3Hdf.write(g, ch, 0, false);
        }
        return p;
    }

    @Test
    void longStringsGoToTheHeapLongArraysAreRefusedAndTheRestReadBack() throws Exception {
        Keras3Hdf.Group small = new Keras3Hdf.Group();
        small.attribute("model_config", "x".repeat(50_000));
        small.attribute("graft_multipliers", "y".repeat(7_000));
        small.group("model_weights").attribute("layer_names", new String[] {"a", "b"});
        Path ok = write(small, "ok.h5");
        try (HdfFile f = new HdfFile(ok)) {
            assertThat((String) f.getAttribute("model_config").getData()).hasSize(50_000);
            assertThat((String) f.getAttribute("graft_multipliers").getData()).hasSize(7_000);
            assertThat((String[]) f.getChild("model_weights").getAttribute("layer_names").getData()).containsExactly("a", "b");
        }

        // 59,000 characters fit in one message (64,935 bytes as jhdf encodes a string attribute)
        Keras3Hdf.Group most = new Keras3Hdf.Group();
        most.attribute("model_config", "x".repeat(59_000));
        most.attribute("graft_multipliers", "y".repeat(7_000));
        try (HdfFile f = new HdfFile(write(most, "most.h5"))) {
            assertThat((String) f.getAttribute("model_config").getData()).hasSize(59_000);
            assertThat((String) f.getAttribute("graft_multipliers").getData()).hasSize(7_000);
        }
        // 60,000 and 200,000 characters make a message over 65,535 bytes: they go to a global heap,
        // beside a short attribute kept in the header
        Keras3Hdf.Group big = new Keras3Hdf.Group();
        big.attribute("model_config", "x".repeat(60_000));
        big.attribute("graft_multipliers", "y".repeat(7_000));
        big.group("model_weights").attribute("training_config", "{\"z\": \"" + "z\u00e9".repeat(100_000) + "\"}");
        try (HdfFile f = new HdfFile(write(big, "big.h5"))) {
            assertThat((String) f.getAttribute("model_config").getData()).isEqualTo("x".repeat(60_000));
            assertThat((String) f.getAttribute("graft_multipliers").getData()).hasSize(7_000);
            assertThat((String) f.getChild("model_weights").getAttribute("training_config").getData())
                    .isEqualTo("{\"z\": \"" + "z\u00e9".repeat(100_000) + "\"}");
        }
        // a string array that long stays refused: nothing is written
        Keras3Hdf.Group names = new Keras3Hdf.Group();
        String[] many = new String[7_000];
        java.util.Arrays.fill(many, "conv5_block3_3_conv");
        names.attribute("layer_names", many);
        assertThatThrownBy(() -> write(names, "names.h5")).isInstanceOf(Keras3Hdf.HeaderTooLarge.class).hasMessageContaining("layer_names");
    }
}
