package graft.spark;

import java.io.Serializable;
import java.nio.file.Path;

/**
 * Where an executor finds the model's ONNX file: shipped with {@code SparkContext.addFile} (the
 * .onnx named {@code shipped} and its external data, fetched into each executor's SparkFiles root,
 * side by side), or a path every executor reads ({@code shared}: NFS, a node-local copy). Never
 * the bytes themselves: a model of any size with external data reaches the executors as files.
 */
record ModelRef(String shipped, String shared) implements Serializable {

    /**
     * Writes {@code prefix} as ONNX with external data (what graft's own sessions open, so the
     * same numbers) under a name of its own in a temporary folder, and adds both files to the job.
     */
    static ModelRef ship(org.apache.spark.sql.SparkSession spark, graft.ir.Graph prefix) {
        Path dir;
        try {
            dir = java.nio.file.Files.createTempDirectory("graft-spark-model");
        } catch (java.io.IOException e) {
            throw new graft.error.EnvironmentException("cannot create a temporary folder for the model: " + e.getMessage(), e);
        }
        String name = "graft-" + java.util.UUID.randomUUID() + ".onnx";
        Path onnx = graft.runtime.Sessions.exportFile(prefix, dir.resolve(name), 17);
        Path data = onnx.resolveSibling(name + ".data");
        Runnable add = () -> {
            spark.sparkContext().addFile(onnx.toString());
            if (java.nio.file.Files.exists(data)) {
                spark.sparkContext().addFile(data.toString());
            }
        };
        // Spark 4 runs a session's jobs with that session's own files (artifact isolation): a file added
        // outside it would never reach a cluster's executors, so it is added within it
        if (spark instanceof org.apache.spark.sql.classic.SparkSession classic) {
            classic.artifactManager().withResources(new scala.runtime.AbstractFunction0<Object>() {
                @Override
                public Object apply() {
                    add.run();
                    return null;
                }
            });
        } else {
            add.run();
        }
        // the driver's copies: Spark has its own from here on (local mode included)
        data.toFile().deleteOnExit();
        onnx.toFile().deleteOnExit();
        dir.toFile().deleteOnExit();
        return new ModelRef(name, null);
    }

    static ModelRef shared(Path onnx) {
        return new ModelRef(null, onnx.toAbsolutePath().toString());
    }

    /**
     * The .onnx file on this JVM's machine: in the SparkFiles root, or in the folder of the session
     * the file was added for (an executor keeps an isolated session's files in a folder of its own).
     */
    Path local() {
        if (shared != null) {
            return Path.of(shared);
        }
        Path p = Path.of(org.apache.spark.SparkFiles.get(shipped));
        if (java.nio.file.Files.exists(p)) {
            return p;
        }
        try (var dirs = java.nio.file.Files.list(Path.of(org.apache.spark.SparkFiles.getRootDirectory()))) {
            return dirs.map(d -> d.resolve(shipped)).filter(java.nio.file.Files::isRegularFile).findFirst().orElse(p);
        } catch (java.io.IOException e) {
            return p;
        }
    }
}
