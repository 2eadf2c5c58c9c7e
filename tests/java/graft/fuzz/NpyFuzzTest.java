package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The .npy reader. Seeds and past crashes: fixtures/fuzz/npy/; a campaign: bench/fuzz.sh npy MINUTES. */
public class NpyFuzzTest {
    /** Jazzer's standalone driver (bench/fuzz.sh) calls this once: the seeds load and instrument the classes first. */
    public static void fuzzerInitialize() {
        FuzzContract.warmUp("npy", NpyFuzzTest::fuzzerTestOneInput);
    }

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
