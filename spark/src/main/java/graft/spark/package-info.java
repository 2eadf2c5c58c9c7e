/**
 * graft on Apache Spark (issue 19): bottleneck features over image folders read with Spark's
 * {@code binaryFile} source, decoded and preprocessed by graft's own code on the executors, the
 * model shipped to them as a file ({@code SparkFiles}), one ONNX Runtime session per executor
 * JVM. {@link graft.spark.GraftSpark} is the Java API; {@link graft.spark.SparkCluster} is what
 * graft's {@code --spark} flag finds through {@link java.util.ServiceLoader}.
 */
package graft.spark;
