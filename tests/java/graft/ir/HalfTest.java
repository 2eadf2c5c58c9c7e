package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * float32 -> float16 against numpy's {@code astype(float16)} (issue #25: ties were rounded away
 * from zero, 65520 became 65504). Cases: fixtures/ir/half_oracle.py, 2.29 million values.
 */
class HalfTest {
    @Test
    void everyCaseMatchesNumpyBitForBit() {
        Path dir = TestPaths.scratch("half-oracle");
        Python.run(TestPaths.fixtures().resolve("ir/half_oracle.py"), dir.toString());
        float[] in = Npy.read(dir.resolve("half_in.npy")).toFloats();
        var want = Npy.read(dir.resolve("half_out.npy")).data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            short got = Half.fromFloat(in[i]);
            short exp = want.getShort(i * 2);
            if (got != exp) {
                if (bad++ < 5) {
                    first.append(String.format("%n  %08x: graft %04x numpy %04x", Float.floatToRawIntBits(in[i]), got, exp));
                }
            }
        }
        assertThat(bad).as(bad + " of " + in.length + " differ:" + first).isZero();
        assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7c00);
        assertThat(Half.fromFloat(65519.996f)).isEqualTo((short) 0x7bff);
    }

    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Half.toFloat((short) h);
            if (!Float.isNaN(f)) {
                assertThat(Half.fromFloat(f) & 0xffff).as("%04x", h).isEqualTo(h);
            }
        }
    }
}
