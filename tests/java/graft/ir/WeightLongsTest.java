package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Integer views of weights keep each type's range (issue #14.10: UINT8 was read as signed). */
class WeightLongsTest {
    @Test
    void uint8IsUnsignedAndInt8Signed() {
        byte[] bytes = {0, 1, 127, (byte) 128, (byte) 200, (byte) 255};
        Weight u = new Weight("u", DataType.UINT8, new long[]{6}, WeightData.of(ByteBuffer.allocateDirect(6).put(bytes).flip()));
        assertThat(u.toLongs()).containsExactly(0, 1, 127, 128, 200, 255);
        Weight s = new Weight("s", DataType.INT8, new long[]{6}, WeightData.of(ByteBuffer.allocateDirect(6).put(bytes).flip()));
        assertThat(s.toLongs()).containsExactly(0, 1, 127, -128, -56, -1);
    }
}
