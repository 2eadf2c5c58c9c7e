package graft.keras;

import graft.ir.Tensor;
import java.nio.file.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's Keras import (deeplearning4j-modelimport 1.0.0-M2.1 on nd4j-native, test scope only)
 * as a second Keras oracle: an independent HDF5 reader (the native HDF5 library) and an
 * independent CNN implementation. Inputs stay NHWC as Keras takes them; DL4J omits a trailing
 * Flatten, so outputs are compared by element order and count.
 *
 * <p>Not thread-safe (nd4j keeps per-thread workspaces); each call imports afresh.
 */
final class Dl4jOracle {
    private Dl4jOracle() {
    }

    /** One float32 input, one output: DL4J's prediction for {@code x} with the model in {@code model} (config: weights-only files). */
    static Tensor predict(Path model, Path config, Tensor x) throws Exception {
        INDArray in = Nd4j.create(x.toFloats(), x.shape(), 'c');
        INDArray out;
        try {
            MultiLayerNetwork net = config == null
                    ? KerasModelImport.importKerasSequentialModelAndWeights(model.toString(), false)
                    : KerasModelImport.importKerasSequentialModelAndWeights(config.toString(), model.toString(), false);
            out = net.output(in);
        } catch (Exception | LinkageError sequentialFailed) {
            ComputationGraph g;
            try {
                g = config == null
                        ? KerasModelImport.importKerasModelAndWeights(model.toString(), false)
                        : KerasModelImport.importKerasModelAndWeights(config.toString(), model.toString(), false);
            } catch (Exception functionalFailed) {
                functionalFailed.addSuppressed(sequentialFailed);
                throw functionalFailed;
            }
            INDArray[] outs = g.output(in);
            if (outs.length != 1) {
                throw new IllegalStateException(outs.length + " outputs");
            }
            out = outs[0];
        }
        return Tensor.ofFloats(out.shape(), out.dup('c').data().asFloat());
    }
}
