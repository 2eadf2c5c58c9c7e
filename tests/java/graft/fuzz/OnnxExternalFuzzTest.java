package graft.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import graft.io.Options;

/** The ONNX reader on a model with an external-data file beside it: the input is a 4-byte big-endian length, the model, then the bytes of {@code model.onnx.data}. Seeds and past crashes: fixtures/fuzz/onnx-external/; a campaign: bench/fuzz.sh onnx-external MINUTES. */
@org.junit.jupiter.api.Tag("fuzz-replay") // replayed by surefire's fuzz-replay execution, in a 256 MB heap (pom.xml)
public class OnnxExternalFuzzTest {
    public static void fuzzerTestOneInput(byte[] data) throws Exception {
        FuzzContract.check(dir -> {
            byte[][] two = FuzzContract.split(data);
            FuzzContract.write(dir, "model.onnx.data", two[1]);
            new graft.onnx.OnnxFormat().read(FuzzContract.write(dir, "model.onnx", two[0]), Options.none());
        }, 3);
    }

    @FuzzTest
    void fuzz(byte[] data) throws Exception {
        fuzzerTestOneInput(data);
    }
}
