package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The Keras HDF5 reader (jhdf underneath) on .h5 bytes. Seeds and past crashes: fixtures/fuzz/h5/; a campaign: bench/fuzz.sh h5 MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class KerasH5FuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            new graft.keras.KerasFormat().read(FuzzContract.write(dir, "model.h5", data), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
