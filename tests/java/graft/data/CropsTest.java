package graft.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random and center crops (with random mirroring) against numpy slicing of the same batch
 * (fixtures/data/crops.py): the values must be identical, they are copies.
 */
class CropsTest {
    static final int N = 6;
    static final int C = 3;
    static final int H = 9;
    static final int W = 11;
    static final int S = 5;

    @Test
    void randomAndCenterCropsMatchNumpySlicing() throws Exception {
        float[] data = new float[N * C * H * W];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian();
        }
        Samples s = new Samples(data, new long[N], new long[] {C, H, W}, List.of("a"));
        int[] idx = {5, 0, 3, 3, 1, 2};
        Crops random = Crops.random(new SplittableRandom(42), idx.length, H, W, S);
        boolean[] mirror = {true, false, true, false, false, true};
        check(s, idx, random, mirror, "random");
        check(s, idx, Crops.center(idx.length, H, W, S), null, "center");
        assertThat(Crops.center(1, H, W, S).top()[0]).isEqualTo(2);
        assertThat(Crops.center(1, H, W, S).left()[0]).isEqualTo(3);
        // Seeded: the same seed gives the same windows; they cover more than one offset.
        Crops again = Crops.random(new SplittableRandom(42), idx.length, H, W, S);
        assertThat(again.top()).containsExactly(random.top());
        assertThat(again.left()).containsExactly(random.left());
        Crops many = Crops.random(new SplittableRandom(1), 200, H, W, S);
        assertThat(java.util.Arrays.stream(many.top()).distinct().count()).isEqualTo(H - S + 1);
        assertThat(java.util.Arrays.stream(many.left()).distinct().count()).isEqualTo(W - S + 1);
    }

    @Test
    void cropLargerThanTheImageIsRefused() {
        assertThatThrownBy(() -> Crops.random(new SplittableRandom(0), 1, 4, 8, 5)).isInstanceOf(UsageException.class)
                .hasMessageContaining("crop size '5'");
    }

    private static void check(Samples s, int[] idx, Crops crops, boolean[] mirror, String name) throws Exception {
        Path dir = TestPaths.scratch("crops-" + name);
        // The oracle sees the gathered rows, so it is given the batch in the order idx picks.
        FloatBuffer gathered = s.batch(idx, null);
        ByteBuffer in = ByteBuffer.allocate(gathered.remaining() * 4).order(ByteOrder.LITTLE_ENDIAN);
        while (gathered.hasRemaining()) {
            in.putFloat(gathered.get());
        }
        in.flip();
        Npy.write(dir.resolve("in.npy"), DataType.FLOAT, new long[] {idx.length, C, H, W}, in, true);
        StringBuilder windows = new StringBuilder();
        for (int k = 0; k < idx.length; k++) {
            windows.append(crops.top()[k]).append(' ').append(crops.left()[k]).append(' ')
                    .append(mirror != null && mirror[k] ? 1 : 0).append('\n');
        }
        Files.writeString(dir.resolve("windows.txt"), windows);
        Python.run(TestPaths.fixtures().resolve("data/crops.py"), dir.resolve("in.npy").toString(),
                dir.resolve("windows.txt").toString(), Integer.toString(S), dir.resolve("out.npy").toString());
        float[] expected = Npy.read(dir.resolve("out.npy")).toFloats();
        FloatBuffer got = crops.batch(s, idx, mirror);
        float[] actual = new float[got.remaining()];
        got.get(actual);
        assertThat(actual).hasSize(idx.length * C * S * S).containsExactly(expected);
    }
}
