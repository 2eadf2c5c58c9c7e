package graft.spark;

import graft.cluster.Cluster;
import graft.cluster.FeaturesJob;
import graft.data.FeatureFiles;
import graft.data.Samples;
import graft.error.EnvironmentException;
import graft.error.UsageException;
import graft.io.AtomicOutput;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;

/**
 * What graft's {@code --spark} flag runs (found through {@link java.util.ServiceLoader}): the job
 * the command line prepared, on a Spark session of its own (embedded {@code local[*]} unless a
 * master is named; under {@code spark-submit}, the session it configured), stopped at the end.
 */
public final class SparkCluster implements Cluster {

    @Override
    public FeaturesJob.Result features(FeaturesJob job) {
        boolean npy = job.out().toString().endsWith(".npy");
        if (job.half() && !npy) {
            throw new UsageException("--half: for .npy output only; Parquet features are float32");
        }
        List<Path> inputs = List.of(job.model(), job.data());
        if (npy) {
            AtomicOutput.checkTarget(job.out(), job.force(), inputs);
            AtomicOutput.checkTarget(FeatureFiles.labelsFile(job.out()), job.force(), inputs);
        } else if (Files.exists(job.out()) && !job.force()) {
            throw new UsageException("output '" + job.out() + "' exists; pass --force to replace it");
        }
        if (job.samples() != null) {
            return arrays(job);
        }
        Path root = ImageRows.root(job.data());
        List<String> classes = ImageRows.classes(root);
        SparkSession spark = Sessions.start("graft features", job.settings());
        try {
            ModelRef model = ModelRef.ship(spark, job.prefix());
            CollectionAccumulator<String> rejected = job.skipBadImages() ? spark.sparkContext().collectionAccumulator("graft rejected images")
                    : null;
            Dataset<Row> images = ImageRows.read(spark, root, classes, job.settings().partitions());
            Features f = Features.of(job.prefix(), job.shape(), job.nhwc(), job.batch(), job.modelSha256(), job.model().getFileName().toString(),
                    job.upto());
            Dataset<Row> rows = f.run(images, model, classes, rejected);
            long count;
            if (npy) {
                List<Row> all = new ArrayList<>(rows.collectAsList());
                all.sort(ImageRows.order());
                count = all.size();
                if (count == 0) {
                    throw new UsageException("data '" + job.data() + "': no image could be read");
                }
                FeatureFiles.write(samples(all, f.sampleShape(all.get(0)), classes), job.out(), job.half(), job.force());
            } else {
                count = writeParquet(rows, job.out(), job.force());
            }
            Path list = null;
            long bad = 0;
            if (rejected != null) {
                TreeSet<String> lines = new TreeSet<>(rejected.value());
                bad = lines.size();
                list = npy ? job.out().resolveSibling(job.out().getFileName().toString().replaceFirst("\\.npy$", "") + "_rejected")
                        : job.out().resolve("_rejected");
                Files.write(list, lines);
            }
            return new FeaturesJob.Result(count, f.sampleShape(null), bad, list);
        } catch (IOException e) {
            throw new EnvironmentException("Spark job: cannot write (" + AtomicOutput.why(e) + ")", e);
        } catch (Exception e) {
            // SparkException is a checked exception to Java (Scala declares none)
            throw Sessions.unwrap(e);
        } finally {
            spark.stop();
        }
    }

    /**
     * Features of array data (an .npy file, an IDX folder) loaded on the driver: contiguous blocks,
     * one per partition, run through the prefix on the executors (each JVM's one session), collected
     * in order and written as single-machine {@code features} writes them.
     */
    private static FeaturesJob.Result arrays(FeaturesJob job) {
        if (!job.out().toString().endsWith(".npy")) {
            throw new UsageException("output '" + job.out() + "': --spark over array data ('" + job.data() + "') writes .npy; Parquet "
                    + "output is for image folders");
        }
        Samples set = job.samples();
        SparkSession spark = Sessions.start("graft features", job.settings());
        try {
            ModelRef model = ModelRef.ship(spark, job.prefix());
            int partitions = job.settings().partitions() > 0 ? job.settings().partitions() : spark.sparkContext().defaultParallelism();
            List<SparkWorkers.Block> blocks = new ArrayList<>(SparkWorkers.bottlenecks(spark, set, partitions, model,
                    job.prefix().inputs().get(0).name(), job.prefix().outputs().get(0).name(), job.nhwc(), job.batch()).collect());
            blocks.sort(java.util.Comparator.comparingInt(SparkWorkers.Block::offset));
            if (blocks.isEmpty()) {
                throw new UsageException("data '" + job.data() + "': holds no samples");
            }
            long[] shape = blocks.get(0).shape();
            int per = Math.toIntExact(graft.ir.Shape.elementCount(shape));
            float[] all = new float[Math.multiplyExact(per, set.size())];
            for (SparkWorkers.Block b : blocks) {
                System.arraycopy(b.x(), 0, all, b.offset() * per, b.x().length);
            }
            FeatureFiles.write(new Samples(all, set.labels(), shape, set.classes()), job.out(), job.half(), job.force());
            return new FeaturesJob.Result(set.size(), shape, 0, null);
        } catch (Exception e) {
            throw Sessions.unwrap(e);
        } finally {
            spark.stop();
        }
    }

    @Override
    public graft.cluster.ValidateJob.Result validate(graft.cluster.ValidateJob job) {
        return SparkValidate.run(job);
    }

    @Override
    public graft.train.DataParallel.Workers workers(Cluster.Settings settings) {
        return new SparkWorkers(settings);
    }

    /** Rows in single-machine order as the {@link Samples} single-machine features gives. */
    static Samples samples(List<Row> rows, long[] shape, List<String> classes) {
        long per = 1;
        for (long d : shape) {
            per *= d;
        }
        float[] data = new float[Math.toIntExact(per * rows.size())];
        long[] labels = new long[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            labels[i] = r.getLong(1);
            float[] x = Features.values(r);
            System.arraycopy(x, 0, data, Math.toIntExact(i * per), x.length);
        }
        return new Samples(data, labels, shape, classes);
    }

    /** Writes a Parquet folder beside {@code out} and renames it into place when the job has succeeded. */
    private static long writeParquet(Dataset<Row> rows, Path out, boolean force) throws IOException {
        Path abs = out.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + java.util.UUID.randomUUID());
        try {
            rows.write().parquet(tmp.toUri().toString());
            if (Files.exists(abs) && force) {
                Sessions.delete(abs);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Sessions.delete(tmp);
        }
        SparkSession spark = rows.sparkSession();
        return spark.read().parquet(abs.toUri().toString()).count();
    }
}
