package graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import graft.cli.Main;
import graft.io.Npy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code graft features --spark} against single-machine {@code graft features}, on 500 Fashion-MNIST
 * test images as PNG class folders and the transfer study's source model cut after block2's pool:
 * Spark in this JVM ({@code local[2]}, 4 partitions), features equal bit for bit (equal .npy bytes
 * and equal float bits in the Parquet output), and the bad-image paths.
 */
class FeaturesOnSparkTest {
    static Path model;
    static Path pngs;
    static Path single;
    static final String UPTO = "/block2/block2.4/MaxPool";

    @BeforeAll
    static void data() throws Exception {
        model = Fixtures.sourceModel();
        Path dir = Fixtures.scratch("features");
        pngs = Fixtures.pngFolders(dir.resolve("pngs"), 50);
        single = dir.resolve("single.npy");
        Run r = graft("features", model.toString(), pngs.toString(), "--upto", UPTO, "--scale", "1/255", "-o", single.toString(), "--quiet");
        assertThat(r.code).as(r.err).isEqualTo(0);
    }

    record Run(int code, String out, String err) {
    }

    static Run graft(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.execute(new PrintWriter(o, true), new PrintWriter(e, true), args);
        return new Run(code, o.toString(), e.toString());
    }

    @Test
    void npyEqualsSingleMachineBitForBit() throws Exception {
        Path out = single.resolveSibling("spark.npy");
        Run r = graft("features", model.toString(), pngs.toString(), "--upto", UPTO, "--scale", "1/255", "-o", out.toString(), "--spark",
                "--master", "local[2]", "--partitions", "4");
        assertThat(r.code).as(r.err).isEqualTo(0);
        assertThat(Npy.read(out).shape()).containsExactly(500, 32, 7, 7);
        assertThat(Fixtures.bytes(out)).isEqualTo(Fixtures.bytes(single));
        assertThat(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(out))).isEqualTo(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(single)));
        // one session per executor JVM: local[2] runs every task in this JVM, over 4 partitions
        assertThat(ExecutorModels.open()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void parquetHoldsTheSameFloatsAndTheModelHash() throws Exception {
        Path out = single.resolveSibling("spark.parquet");
        Run r = graft("features", model.toString(), pngs.toString(), "--upto", UPTO, "--scale", "1/255", "-o", out.toString(), "--spark",
                "--master", "local[2]", "--partitions", "4", "--force");
        assertThat(r.code).as(r.err).isEqualTo(0);
        float[] want = Npy.read(single).toFloats();
        long[] labels = labels(single);
        SparkSession s = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            var df = s.read().parquet(out.toString());
            assertThat(df.schema().apply("features").metadata().getString("graft.model.sha256")).isEqualTo(graft.io.FileHash.sha256(model));
            List<Row> rows = new ArrayList<>(df.collectAsList());
            rows.sort(ImageRows.order());
            assertThat(rows).hasSize(500);
            int per = want.length / 500;
            for (int i = 0; i < rows.size(); i++) {
                float[] got = Features.values(rows.get(i));
                assertThat(rows.get(i).getLong(1)).isEqualTo(labels[i]);
                for (int k = 0; k < per; k++) {
                    assertThat(Float.floatToRawIntBits(got[k])).as("image %d value %d", i, k).isEqualTo(Float.floatToRawIntBits(want[i * per + k]));
                }
            }
        } finally {
            s.stop();
        }
        // the hash is in each Parquet file's footer: Spark keeps the schema, column metadata included, under this key
        Path part;
        try (var l = Files.list(out)) {
            part = l.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        var conf = new org.apache.hadoop.conf.Configuration();
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(part.toUri()), conf))) {
            String kv = reader.getFooter().getFileMetaData().getKeyValueMetaData().get("org.apache.spark.sql.parquet.row.metadata");
            assertThat(kv).contains("\"graft.model.sha256\":\"" + graft.io.FileHash.sha256(model) + "\"");
        }
    }

    @Test
    void aBadImageFailsNamingItOrIsSkippedAndListed() throws Exception {
        Path dir = Fixtures.scratch("bad-image");
        Path data = Fixtures.pngFolders(dir.resolve("pngs"), 5);
        Path broken = data.resolve("class3/broken.png");
        Files.write(broken, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Run fail = graft("features", model.toString(), data.toString(), "--upto", UPTO, "-o", dir.resolve("f.npy").toString(), "--spark",
                "--master", "local[2]");
        assertThat(fail.code).as(fail.err).isEqualTo(3);
        assertThat(fail.err.strip().lines().count()).as(fail.err).isEqualTo(1);
        assertThat(fail.err).contains(broken.toString());
        assertThat(dir.resolve("f.npy")).doesNotExist();
        Run skip = graft("features", model.toString(), data.toString(), "--upto", UPTO, "-o", dir.resolve("f.parquet").toString(), "--spark",
                "--master", "local[2]", "--on-bad-image", "skip");
        assertThat(skip.code).as(skip.err).isEqualTo(0);
        assertThat(skip.out).contains("of 50 samples").contains("1 rejected");
        List<String> rejected = Files.readAllLines(dir.resolve("f.parquet/_rejected"));
        assertThat(rejected).hasSize(1);
        assertThat(rejected.get(0)).startsWith(broken + "\t");
    }

    @Test
    void aModelMissingOnAnExecutorIsOneLineNamingIt() {
        Path missing = single.resolveSibling("not-shipped/model.onnx");
        GraftSpark.Prepared p = GraftSpark.prepare(model, UPTO);
        SparkSession s = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
        try {
            List<String> classes = ImageRows.classes(pngs);
            Features f = Features.of(p.prefix(), p.shape(), p.nhwc(), 32, "-", "model", UPTO);
            var rows = f.run(ImageRows.read(s, pngs, classes, 2), ModelRef.shared(missing), classes, null);
            graft.error.GraftException e = null;
            try {
                rows.collectAsList();
            } catch (Exception x) {
                e = Sessions.unwrap(x);
            }
            assertThat(e).isInstanceOf(graft.error.MissingInputException.class);
            assertThat(e.getMessage()).startsWith("model '" + missing + "': not on executor host ").doesNotContain("\n");
            assertThat(e.exitCode()).isEqualTo(3);
        } finally {
            s.stop();
        }
    }

    /**
     * Array data: Fashion-MNIST's IDX folder (classes 0-4, 60 training images each, as single-machine
     * features loads it) and an .npy array with its labels (the first 300 test images, pixels/255):
     * {@code --spark} on local[2] with 4 partitions writes the same .npy bytes as one machine.
     */
    @Test
    void idxAndNpyDataEqualSingleMachineBitForBit() throws Exception {
        Path dir = Fixtures.scratch("features-arrays");
        String[] idx = {Fixtures.FASHION.toString(), "--classes", "0-4", "--per-class", "60"};
        graft.data.Samples t = graft.data.Idx.read(Fixtures.FASHION, "t10k");
        int n = 300;
        java.nio.ByteBuffer x = java.nio.ByteBuffer.allocate(n * 784 * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.nio.ByteBuffer y = java.nio.ByteBuffer.allocate(n * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            var v = t.sample(i);
            for (int k = 0; k < 784; k++) {
                x.putFloat(v.get(k) / 255f);
            }
            y.putLong(t.label(i));
        }
        Path xs = dir.resolve("x.npy");
        Path ys = dir.resolve("y.npy");
        Npy.write(xs, graft.ir.DataType.FLOAT, new long[] {n, 1, 28, 28}, x.flip(), false);
        Npy.write(ys, graft.ir.DataType.INT64, new long[] {n}, y.flip(), false);
        String[] npy = {xs.toString(), "--labels", ys.toString()};
        for (String[] data : List.of(idx, npy)) {
            String name = data == idx ? "idx" : "npy";
            List<String> common = new ArrayList<>(List.of("features", model.toString()));
            common.addAll(List.of(data));
            common.addAll(List.of("--upto", UPTO));
            if (data == idx) {
                common.addAll(List.of("--scale", "1/255"));
            }
            List<String> one = new ArrayList<>(common);
            one.addAll(List.of("-o", dir.resolve(name + "-single.npy").toString(), "--quiet"));
            Run a = graft(one.toArray(String[]::new));
            assertThat(a.code).as(a.err).isEqualTo(0);
            List<String> spark = new ArrayList<>(common);
            spark.addAll(List.of("-o", dir.resolve(name + "-spark.npy").toString(), "--spark", "--master", "local[2]", "--partitions", "4"));
            Run b = graft(spark.toArray(String[]::new));
            assertThat(b.code).as(b.err).isEqualTo(0);
            assertThat(Npy.read(dir.resolve(name + "-spark.npy")).shape()).containsExactly(data == idx ? 300 : n, 32, 7, 7);
            assertThat(Fixtures.bytes(dir.resolve(name + "-spark.npy"))).as(name).isEqualTo(Fixtures.bytes(dir.resolve(name + "-single.npy")));
            assertThat(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(dir.resolve(name + "-spark.npy")))).as(name)
                    .isEqualTo(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(dir.resolve(name + "-single.npy"))));
        }
        Run parquet = graft("features", model.toString(), xs.toString(), "--labels", ys.toString(), "--upto", UPTO, "-o",
                dir.resolve("x.parquet").toString(), "--spark", "--master", "local[1]");
        assertThat(parquet.code).as(parquet.err).isEqualTo(2);
        assertThat(parquet.err.strip().lines().count()).isEqualTo(1);
    }

    static long[] labels(Path featuresNpy) {
        Npy.Array a = Npy.read(graft.data.FeatureFiles.labelsFile(featuresNpy));
        long[] l = new long[(int) a.count()];
        var b = a.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < l.length; i++) {
            l[i] = b.getLong(i * 8);
        }
        return l;
    }
}
