package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The Caffe prototxt reader (text format, no weights: the layers are built from their fillers). Seeds and past crashes: fixtures/fuzz/prototxt/; a campaign: bench/fuzz.sh prototxt MINUTES. */
public class CaffeTextFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            new graft.caffe.CaffeFormat().read(FuzzContract.write(dir, "deploy.prototxt", data), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
