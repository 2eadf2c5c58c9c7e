package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The .npy reader. Seeds and past crashes: fixtures/fuzz/npy/; a campaign: bench/fuzz.sh npy MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class NpyFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            graft.io.Npy.read(FuzzContract.write(dir, "x.npy", data));
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
