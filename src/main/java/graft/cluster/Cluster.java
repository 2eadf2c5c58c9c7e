package graft.cluster;

import graft.error.EnvironmentException;
import java.util.ServiceLoader;

/**
 * graft's work spread over a cluster (issue 19): the commands' {@code --spark} flag hands a job to
 * the one implementation on the class path, graft's Spark module ({@code spark/}, found through
 * {@link ServiceLoader}), so the core compiles and runs without Spark. The command line resolves
 * everything that needs the model's metadata (the cut graph, the image shape) and the
 * implementation only distributes it.
 */
public interface Cluster {

    /** Runs a features job and writes its output; returns what was written. */
    FeaturesJob.Result features(FeaturesJob job);

    /** Runs a validation over an image folder; returns the metrics one machine computes, aggregated over partitions. */
    ValidateJob.Result validate(ValidateJob job);

    /**
     * {@code graft finetune --spark}: the workers of data-parallel head training (a Spark session
     * of their own, stopped when they are closed).
     */
    graft.train.DataParallel.Workers workers(Settings settings);

    /**
     * The implementation on the class path. Without one (the Spark module not built, or graft not
     * started through {@code ./graft}, which adds it for {@code --spark}): one line, exit 5.
     */
    static Cluster find() {
        return ServiceLoader.load(Cluster.class).findFirst().orElseThrow(() -> new EnvironmentException(
                "--spark: graft's Spark module is not on the class path. Build it (mvn -B -DskipTests package at graft's root "
                        + "builds spark/target/graft-spark-0.1.0.jar and spark/target/lib) and start graft through ./graft"));
    }

    /** Where and how wide the job runs: {@code master} null for embedded {@code local[*]}; {@code partitions} 0 for Spark's own split. */
    record Settings(String master, int partitions, boolean verbose) {
    }
}
