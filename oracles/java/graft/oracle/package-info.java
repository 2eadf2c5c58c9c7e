/**
 * The oracle part: implementations graft did not write (DL4J's Keras import, OpenCV's dnn
 * module) computing a source model's outputs, so that a conversion is checked against the
 * source framework's reading of the file rather than graft's own. Built into its own jar
 * (target/graft-VERSION-oracles.jar, libraries in target/oracle-lib/) and run only in a child
 * JVM that graft starts for {@code validate --oracle} and {@code convert --verify}
 * (graft.cli.OracleCheck): never on the class path of the other commands.
 */
package graft.oracle;
