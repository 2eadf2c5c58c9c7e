package graft.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The chunked float32 census that runs before every write ({@link FiniteWeights#countFloat32})
 * against the definition, value by value with {@link Float#isNaN} and {@link Float#isInfinite}:
 * NaN with any payload and either sign, both infinities, the largest finite values and
 * subnormals, planted at chunk boundaries, in a buffer that starts at an odd position.
 */
class FiniteWeightsCountTest {
    @Test
    void countsEqualFloatsOwnDefinition() {
        Random rnd = new Random(7);
        int n = FiniteWeights.CHUNK * 3 + 17;
        int[] special = {0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFFFFFFF, 0x7FBFFFFF, 0x7F800000, 0xFF800000,
                0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000001, 0x007FFFFF};
        int[] places = {0, 1, FiniteWeights.CHUNK - 1, FiniteWeights.CHUNK, 2 * FiniteWeights.CHUNK + 5, n - 1};
        for (int round = 0; round < 40; round++) {
            ByteBuffer b = ByteBuffer.allocate(n * 4 + 3).order(ByteOrder.LITTLE_ENDIAN);
            b.position(3);
            ByteBuffer v = b.slice().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                v.putFloat(i * 4, (float) rnd.nextGaussian() * 1e3f);
            }
            int planted = round == 0 ? 0 : 1 + rnd.nextInt(places.length);
            for (int k = 0; k < planted; k++) {
                int at = round % 2 == 0 ? places[rnd.nextInt(places.length)] : rnd.nextInt(n);
                v.putInt(at * 4, special[rnd.nextInt(special.length)]);
            }
            long nan = 0;
            long inf = 0;
            for (int i = 0; i < n; i++) {
                float f = v.getFloat(i * 4);
                nan += Float.isNaN(f) ? 1 : 0;
                inf += Float.isInfinite(f) ? 1 : 0;
            }
            long[] got = FiniteWeights.countFloat32(b, n);
            assertThat(got).as("round %d", round).containsExactly(nan, inf);
        }
    }

    @Test
    void aWeightShorterThanAChunkAndAnEmptyOne() {
        ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(0, Float.NaN).putFloat(4, 1f).putFloat(8, Float.NEGATIVE_INFINITY);
        assertThat(FiniteWeights.countFloat32(b, 3)).containsExactly(1L, 1L);
        assertThat(FiniteWeights.countFloat32(b, 0)).containsExactly(0L, 0L);
    }
}
