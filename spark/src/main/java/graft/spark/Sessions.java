package graft.spark;

import graft.cluster.Cluster;
import graft.error.GraftException;
import graft.error.RuntimeFailureException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The Spark session of one graft command, and what its failures mean to a user. */
final class Sessions {
    private Sessions() {
    }

    /** What a graft command's session counts for opening one file when packing read partitions (bytes). */
    static final long IMAGE_OPEN_COST = 256 * 1024;

    /**
     * A session for one command: the master from {@code --master} (else the one spark-submit set,
     * else {@code local[*]}), no web UI and no console progress bar, Spark's logs at WARN (INFO with
     * -v). On a standalone cluster whose executors have no graft on their class path, they get this
     * JVM's class path (graft installed at the same path on every node, or one machine).
     */
    static SparkSession start(String name, Cluster.Settings s) {
        if (s.verbose()) {
            org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.INFO);
        }
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName(name);
        if (s.master() != null) {
            b.master(s.master());
        } else if (!conf.contains("spark.master")) {
            b.master("local[*]");
        }
        if (!conf.contains("spark.ui.enabled")) {
            b.config("spark.ui.enabled", "false");
        }
        b.config("spark.ui.showConsoleProgress", "false");
        if (!s.verbose() && !conf.contains("spark.log.level") && sparkDefaultLogging()) {
            b.config("spark.log.level", "WARN");
        }
        // binaryFile packs files into read partitions (128 MB) counting each as its size plus
        // spark.sql.files.openCostInBytes, 4 MB by default: 32 images per task whatever their size
        // (63 tasks for 2,000 small PNGs, about 312,000 for 10 M images), each paying Spark's per-task
        // cost. An image file's open cost is of the order of a JPEG photo's size instead.
        if (!conf.contains("spark.sql.files.openCostInBytes")) {
            b.config("spark.sql.files.openCostInBytes", Long.toString(IMAGE_OPEN_COST));
        }
        String master = s.master() != null ? s.master() : conf.get("spark.master", "local[*]");
        if (master.startsWith("spark://") && !conf.contains("spark.executor.extraClassPath")) {
            b.config("spark.executor.extraClassPath", System.getProperty("java.class.path"));
        }
        return b.getOrCreate();
    }

    /**
     * True when Spark logs through its built-in profile (INFO), as under {@code spark-submit}, which
     * sets up logging before graft's jar (with its quiet {@code log4j2.properties}) is on the class
     * path; a configuration of the user's (Spark's conf/, {@code -Dlog4j2.configurationFile}) is not.
     */
    private static boolean sparkDefaultLogging() {
        try {
            return org.apache.spark.internal.Logging$.MODULE$.org$apache$spark$internal$Logging$$defaultSparkLog4jConfig();
        } catch (LinkageError e) {
            return false;
        }
    }

    /** graft's own error behind a Spark job failure (an executor's exception travels back as the cause), else one line. */
    static GraftException unwrap(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof GraftException g) {
                return g;
            }
        }
        // an executor's exception that could not travel back as an object still names its class in the message
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(graft\\.error\\.\\w+): ([^\\n]*)").matcher(String.valueOf(e.getMessage()));
        if (m.find()) {
            try {
                Class<?> c = Class.forName(m.group(1));
                if (GraftException.class.isAssignableFrom(c)) {
                    GraftException g = (GraftException) c.getConstructor(String.class).newInstance(m.group(2));
                    g.initCause(e);
                    return g;
                }
            } catch (ReflectiveOperationException | RuntimeException ignored) {
                // not one with a message-only constructor: reported as a Spark failure below
            }
        }
        String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        return new RuntimeFailureException("Spark job failed: " + first, e);
    }

    static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // temporary files: left for the OS
        }
    }
}
