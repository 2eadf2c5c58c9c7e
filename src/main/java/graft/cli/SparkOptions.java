package graft.cli;

import picocli.CommandLine.Option;

/** {@code --spark}, {@code --master}, {@code --partitions}: shared by the commands that run on Apache Spark (features, validate). */
final class SparkOptions {
    @Option(names = "--spark", description = "Run on Apache Spark (embedded local[*] unless --master); needs graft's Spark module.")
    boolean on;

    @Option(names = "--master", paramLabel = "URL", description = "With --spark: the cluster (spark://host:7077, yarn, k8s://...; default local[*]).")
    String master;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "N", description = "With --spark: read the images as N partitions (default: Spark's split).")
    int partitions;

    /** True when --master or --partitions was given (they need --spark). */
    boolean clusterOptionsGiven() {
        return master != null || partitions != 0;
    }

    /** The job's settings; verbose when the command line has -v/--verbose. */
    graft.cluster.Cluster.Settings settings(picocli.CommandLine.Model.CommandSpec spec) {
        var args = spec.root().commandLine().getParseResult().originalArgs();
        return new graft.cluster.Cluster.Settings(master, partitions, args.contains("-v") || args.contains("--verbose"));
    }
}
