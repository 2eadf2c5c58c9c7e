package graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * graft on a real Spark standalone cluster: a Master and two Workers (1 core each) as separate
 * JVMs on 127.0.0.1 ({@link Standalone}), the features job submitted to spark://127.0.0.1:PORT by
 * {@code graft features --spark --master}, bit for bit equal to single-machine features on 500
 * Fashion-MNIST PNGs; then (tagged slow) one Worker killed by its process id while a job runs,
 * and the job completes through Spark's retries with every image exactly once.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterTest {
    static Standalone cluster;
    static Path model;
    static Path pngs;
    static Path single;
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        model = Fixtures.sourceModel();
        dir = Fixtures.scratch("standalone");
        pngs = Fixtures.pngFolders(dir.resolve("pngs"), 50);
        single = dir.resolve("single.npy");
        FeaturesOnSparkTest.Run r = graft("features", model.toString(), pngs.toString(), "--upto", FeaturesOnSparkTest.UPTO, "--scale", "1/255", "-o",
                single.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        // the driver (this JVM) must be reachable from the executors at the address it gives them
        System.setProperty("spark.driver.host", "127.0.0.1");
        System.setProperty("spark.driver.bindAddress", "127.0.0.1");
        cluster = new Standalone(dir.resolve("cluster"), 2);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
        System.clearProperty("spark.driver.host");
        System.clearProperty("spark.driver.bindAddress");
    }

    /** The CLI in this JVM (the driver), as {@link FeaturesOnSparkTest#graft} runs it. */
    static FeaturesOnSparkTest.Run graft(String... args) {
        return FeaturesOnSparkTest.graft(args);
    }

    @Test
    @Order(1)
    void featuresOnTwoWorkersEqualSingleMachineBitForBit() throws Exception {
        Path out = dir.resolve("cluster.npy");
        FeaturesOnSparkTest.Run r = graft("features", model.toString(), pngs.toString(), "--upto", FeaturesOnSparkTest.UPTO, "--scale", "1/255", "-o",
                out.toString(), "--spark", "--master", cluster.url(), "--partitions", "4");
        assertThat(r.code()).as(r.err()).isEqualTo(0);
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(single));
        assertThat(Files.readAllBytes(graft.data.FeatureFiles.labelsFile(out)))
                .isEqualTo(Files.readAllBytes(graft.data.FeatureFiles.labelsFile(single)));
        // both workers ran executors of the job
        for (int i = 0; i < 2; i++) {
            try (var s = Files.walk(dir.resolve("cluster/work" + i))) {
                assertThat(s.anyMatch(p -> p.getFileName().toString().equals("stderr"))).as("worker %d ran an executor", i).isTrue();
            }
        }
    }

    /** Slow (45 s here): with it the Spark tests would pass the default suite's 3 minutes; mvn -Pslow runs it. */
    @Test
    @Order(2)
    @Tag("slow")
    void aWorkerKilledMidJobLosesNoImageAndDuplicatesNone() throws Exception {
        SparkSession spark = SparkSession.builder().master(cluster.url()).appName("graft fault test")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
                .getOrCreate();
        try {
            AtomicBoolean killed = new AtomicBoolean();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd e) {
                    if (killed.compareAndSet(false, true)) {
                        cluster.kill(1);
                    }
                }
            });
            // 10 partitions of 50 images straight from the files (no shuffle whose output could die with the worker)
            var images = ImageRows.read(spark, pngs, ImageRows.classes(pngs), 10);
            var feats = GraftSpark.features(spark, model, FeaturesOnSparkTest.UPTO, images, 8);
            List<Row> rows = feats.select("path", "label").collectAsList();
            assertThat(killed).isTrue();
            assertThat(cluster.workers.get(1).isAlive()).isFalse();
            Set<String> paths = new HashSet<>();
            for (Row row : rows) {
                assertThat(paths.add(row.getString(0))).as("%s appears once", row.getString(0)).isTrue();
            }
            assertThat(paths).hasSize(500);
        } finally {
            spark.stop();
        }
    }
}
