package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The Keras 3 .keras zip reader (config.json, metadata.json, model.weights.h5 through jhdf). Seeds and past crashes: fixtures/fuzz/keras-zip/; a campaign: bench/fuzz.sh keras-zip MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class KerasZipFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            new graft.keras.KerasFormat().read(FuzzContract.write(dir, "model.keras", data), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
