package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The Caffe caffemodel reader (binary NetParameter with blobs) read alone. Seeds and past crashes: fixtures/fuzz/caffemodel/; a campaign: bench/fuzz.sh caffemodel MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class CaffeBinaryFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            new graft.caffe.CaffeFormat().read(FuzzContract.write(dir, "model.caffemodel", data), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
