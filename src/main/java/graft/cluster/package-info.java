/**
 * The jobs graft's commands hand to a cluster with {@code --spark}, and the service interface
 * ({@link graft.cluster.Cluster}) the Spark module implements. Nothing here depends on Spark.
 */
package graft.cluster;
