package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Tensor;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The progress bar of {@code features} (me.tongfei:progressbar) when the output is not a terminal (here, and in CI
 * logs): plain lines, no carriage return, ending with the full count, the percentage and a rate; {@code --quiet}
 * prints none, and the features are the same either way. {@code finetune}: a bar over each epoch's steps, closed
 * before that epoch's line.
 */
class ProgressTest {
    @Test
    void featuresPrintPlainProgressLinesAndQuietNone() throws Exception {
        Path dir = TestPaths.scratch("progress");
        Path model = TestPaths.fixtures().resolve("surgery/caffenet_mini.onnx");
        int n = 12;
        Tensor x = Tensor.random(DataType.FLOAT, new long[] {n, 3, 227, 227}, 7);
        Path in = dir.resolve("x.npy");
        Npy.write(in, x.dtype(), x.shape(), x.data(), true);
        ByteBuffer lb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            lb.putLong(i % 3);
        }
        lb.flip();
        Path labels = dir.resolve("y.npy");
        Npy.write(labels, DataType.INT64, new long[] {n}, lb, true);

        Cli.Result r = Cli.run("features", model.toString(), in.toString(), "--labels", labels.toString(), "--upto", "pool5", "--batch-size", "4",
                "-o", dir.resolve("f.npy").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("\r");
        List<String> bars = r.out().lines().filter(l -> l.startsWith("features ") && l.contains("%")).toList();
        assertThat(bars).as(r.out()).isNotEmpty();
        assertThat(bars.get(bars.size() - 1)).contains("100%").contains(n + "/" + n).contains("img/s");
        assertThat(r.out()).contains("features [" + n + ", 16, 6, 6] of " + n + " samples");

        Cli.Result q = Cli.run("features", model.toString(), in.toString(), "--labels", labels.toString(), "--upto", "pool5", "--batch-size", "4",
                "-o", dir.resolve("q.npy").toString(), "--quiet");
        assertThat(q.code()).as(q.err()).isZero();
        assertThat(q.out().lines().filter(l -> l.contains("%"))).isEmpty();
        assertThat(q.out().strip()).startsWith("features [" + n + ", 16, 6, 6]");
        assertThat(Npy.read(dir.resolve("q.npy")).data()).isEqualTo(Npy.read(dir.resolve("f.npy")).data());
    }

    @Test
    void finetuneShowsEachEpochsStepsBeforeItsLine() throws Exception {
        FinetuneCommandTest.oracle();
        Path dir = TestPaths.scratch("progress-finetune");
        Path data = FinetuneCommandTest.images(dir.resolve("data"), 4);
        Cli.Result r = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", dir.resolve("run").toString(),
                "--epochs", "2", "--batch-size", "2", "--val-fraction", "0", "--scale", "1/255");
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).doesNotContain("\r");
        List<String> lines = r.out().lines().toList();
        for (int e = 1; e <= 2; e++) {
            String bar = "epoch " + e + "/2 steps";
            int last = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith(bar)) {
                    last = i;
                }
            }
            assertThat(last).as(r.out()).isNotNegative();
            assertThat(lines.get(last)).contains("100%").contains("steps/s");
            String head = "epoch " + e + "/2  loss";
            int epochLine = lines.indexOf(lines.stream().filter(l -> l.startsWith(head)).findFirst().orElseThrow());
            assertThat(last).as("the bar closes before the epoch's line").isLessThan(epochLine);
        }
        Cli.Result q = Cli.run("finetune", FinetuneCommandTest.model.toString(), data.toString(), "-o", dir.resolve("quiet").toString(),
                "--epochs", "2", "--batch-size", "2", "--val-fraction", "0", "--scale", "1/255", "--quiet");
        assertThat(q.code()).as(q.out() + q.err()).isZero();
        assertThat(q.out()).doesNotContain(" steps").contains("epoch 2/2  loss ");
    }

    /**
     * {@code convert} of a large model (over 256 MB of weights; lowered here with the property
     * {@code graft.progress.min_bytes}) shows the bytes written on stderr, in MB, ending at 100%;
     * {@code --quiet} none; the file is byte for byte the one written without a bar.
     */
    @Test
    void convertShowsTheBytesWrittenOfALargeModel() throws Exception {
        Path dir = TestPaths.scratch("progress-convert");
        Path model = TestPaths.fixtures().resolve("onnx/small_vgg.onnx");
        String before = System.getProperty("graft.progress.min_bytes");
        System.setProperty("graft.progress.min_bytes", "1");
        try {
            Cli.Result r = Cli.run("convert", "--force", model.toString(), dir.resolve("bar.onnx").toString());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.err()).doesNotContain("\r");
            List<String> bars = r.err().lines().filter(l -> l.startsWith("writing bar.onnx") && l.contains("%")).toList();
            assertThat(bars).as(r.err()).isNotEmpty();
            assertThat(bars.get(bars.size() - 1)).contains("100%").contains("MB");
            Cli.Result q = Cli.run("convert", "--force", "--quiet", model.toString(), dir.resolve("quiet.onnx").toString());
            assertThat(q.code()).as(q.err()).isZero();
            assertThat(q.err().lines().filter(l -> l.contains("%"))).isEmpty();
        } finally {
            if (before == null) {
                System.clearProperty("graft.progress.min_bytes");
            } else {
                System.setProperty("graft.progress.min_bytes", before);
            }
        }
        Cli.Result plain = Cli.run("convert", "--force", model.toString(), dir.resolve("plain.onnx").toString());
        assertThat(plain.err().lines().filter(l -> l.contains("%"))).isEmpty();
        assertThat(java.nio.file.Files.readAllBytes(dir.resolve("bar.onnx"))).isEqualTo(java.nio.file.Files.readAllBytes(dir.resolve("plain.onnx")));
    }
}
