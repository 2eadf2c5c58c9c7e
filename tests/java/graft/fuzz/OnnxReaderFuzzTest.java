package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The ONNX reader on model bytes. Seeds and past crashes: fixtures/fuzz/onnx/; a campaign: bench/fuzz.sh onnx MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class OnnxReaderFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            new graft.onnx.OnnxFormat().read(FuzzContract.write(dir, "model.onnx", data), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
