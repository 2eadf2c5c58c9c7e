package graft.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code spark-submit} with the module's jar: {@code org.apache.spark.deploy.SparkSubmit} (what the
 * {@code spark-submit} script runs) in a separate JVM, {@code --class graft.cli.Main} and
 * spark/target/graft-spark-0.1.0.jar as the application jar, {@code features --spark} on
 * {@code local[2]}: the same .npy bytes as single-machine {@code graft features}, and Spark's INFO
 * logs silenced. The JVM gets the test class path without the module's own classes, so graft's
 * Spark code can only come from the jar. The jar is made by {@code package}: {@code mvn verify}
 * runs this test after it (its own surefire execution, phase integration-test).
 */
class SparkSubmitTest {

    @Test
    void sparkSubmitRunsFeaturesFromTheModulesJar() throws Exception {
        Path root = Fixtures.root();
        Path jar = root.resolve("spark/target/graft-spark-0.1.0.jar");
        Path classes = root.resolve("spark/target/classes");
        // run before package (mvn test -Dtest=SparkSubmitTest, or verify's test phase with -Dtest): skipped, saying why;
        // verify runs it again after package
        Assumptions.assumeTrue(Files.exists(jar), "no " + jar + " yet: mvn verify runs this test after package makes it");
        long newest;
        try (var s = Files.walk(classes)) {
            newest = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().lastModified()).max().orElse(0);
        }
        Assumptions.assumeTrue(jar.toFile().lastModified() >= newest, jar + " is older than spark/target/classes: mvn verify runs this test "
                + "after package remakes it");

        Path model = Fixtures.sourceModel();
        Path dir = Fixtures.scratch("spark-submit");
        Path pngs = Fixtures.pngFolders(dir.resolve("pngs"), 50);
        Path single = dir.resolve("single.npy");
        FeaturesOnSparkTest.Run r = FeaturesOnSparkTest.graft("features", model.toString(), pngs.toString(), "--upto", FeaturesOnSparkTest.UPTO,
                "--scale", "1/255", "-o", single.toString(), "--quiet");
        assertThat(r.code()).as(r.err()).isEqualTo(0);

        List<String> cp = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e).toAbsolutePath().normalize();
            if (!p.equals(classes) && !p.equals(root.resolve("spark/target/test-classes"))) {
                cp.add(e);
            }
        }
        Path out = dir.resolve("submit.npy");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g"));
        cmd.addAll(Arrays.asList(System.getProperty("graft.spark.opens", "").trim().split("\\s+")));
        cmd.addAll(List.of("-cp", String.join(File.pathSeparator, cp), "org.apache.spark.deploy.SparkSubmit", "--master", "local[2]",
                "--class", "graft.cli.Main", jar.toString(),
                "features", model.toString(), pngs.toString(), "--upto", FeaturesOnSparkTest.UPTO, "--scale", "1/255", "-o", out.toString(),
                "--spark"));
        Path log = dir.resolve("submit.log");
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("spark-submit finished").isTrue();
        String text = Files.readString(log);
        assertThat(p.exitValue()).as(text).isEqualTo(0);
        assertThat(text).contains("features [32, 7, 7] of 500 samples");
        assertThat(Fixtures.bytes(out)).isEqualTo(Fixtures.bytes(single));
        assertThat(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(out))).isEqualTo(Fixtures.bytes(graft.data.FeatureFiles.labelsFile(single)));
        // quiet by default: Spark's start-up lines before the session exists, then warnings only
        long info = text.lines().filter(l -> l.contains(" INFO ")).count();
        assertThat(info).as(text).isLessThanOrEqualTo(5);
    }
}
