package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Explicit validation data is what the user gave: an .npy --val has its own --val-labels (a
 * validation array without labels is refused), and --per-class subsamples training data only.
 */
class ValidationDataTest {
    @BeforeAll
    static void model() {
        FinetuneCommandTest.oracle();
    }

    static void npy(Path x, Path y, int n, long seed) {
        Random r = new Random(seed);
        ByteBuffer xb = ByteBuffer.allocate(n * 3 * 8 * 8 * 4).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer yb = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            yb.putLong(c);
            for (int ch = 0; ch < 3; ch++) {
                for (int k = 0; k < 64; k++) {
                    xb.putFloat((ch == c ? 0.6f : 0f) + 0.3f * r.nextFloat());
                }
            }
        }
        xb.flip();
        yb.flip();
        Npy.write(x, DataType.FLOAT, new long[] {n, 3, 8, 8}, xb, true);
        Npy.write(y, DataType.INT64, new long[] {n}, yb, true);
    }

    @Test
    void anNpyValidationArrayHasItsOwnLabels() throws IOException {
        Path dir = TestPaths.scratch("val-labels");
        npy(dir.resolve("x.npy"), dir.resolve("y.npy"), 12, 1);
        npy(dir.resolve("vx.npy"), dir.resolve("vy.npy"), 6, 2);
        String[] common = {"--labels", dir.resolve("y.npy").toString(), "--epochs", "1", "--batch-size", "6", "--no-dropout"};
        Cli.Result bad = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), dir.resolve("x.npy").toString(),
                "-o", dir.resolve("o1").toString(), "--val", dir.resolve("vx.npy").toString()}, common));
        assertThat(bad.code()).as(bad.out() + bad.err()).isEqualTo(2);
        assertThat(bad.err()).contains("vx.npy").contains("--val-labels");
        assertThat(dir.resolve("o1/history.csv")).doesNotExist();
        Cli.Result ok = Cli.run(cat(new String[] {"finetune", FinetuneCommandTest.model.toString(), dir.resolve("x.npy").toString(),
                "-o", dir.resolve("o2").toString(), "--val", dir.resolve("vx.npy").toString(), "--val-labels",
                dir.resolve("vy.npy").toString()}, common));
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("training on 12 samples of 3 classes, validating on 6");
    }

    @Test
    void perClassSelectsTrainingSamplesOnly() throws IOException {
        Path dir = TestPaths.scratch("val-per-class");
        Path train = FinetuneCommandTest.images(dir.resolve("train"), 6);
        Path val = FinetuneCommandTest.images(dir.resolve("val"), 5);
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), train.toString(), "--val", val.toString(), "-o",
                dir.resolve("run").toString(), "--per-class", "2", "--epochs", "1", "--batch-size", "6", "--scale", "1/255");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("training on 6 samples of 3 classes, validating on 15");
        List<String> csv = Files.readAllLines(dir.resolve("run/history.csv"));
        double valAcc = Double.parseDouble(csv.get(1).split(",")[4]);
        assertThat(valAcc * 15).as("a share of 15 images").isCloseTo(Math.rint(valAcc * 15), org.assertj.core.data.Offset.offset(1e-4));
    }

    private static String[] cat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
