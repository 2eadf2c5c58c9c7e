package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The Caffe prototxt reader (text format, no weights: the layers are built from their fillers). Seeds and past crashes: fixtures/fuzz/prototxt/; a campaign: bench/fuzz.sh prototxt MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
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
