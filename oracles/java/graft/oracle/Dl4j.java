package graft.oracle;

import graft.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J's Keras import (deeplearning4j-modelimport 1.0.0-M2.1 on nd4j-native): its own HDF5
 * reader (the native HDF5 library), its own reading of the Keras config and its own CNN
 * kernels. Inputs in Keras's own layout (NHWC for channels_last). Sequential models are tried
 * first, then the functional import; a model neither reads is refused with DL4J's reason.
 */
final class Dl4j {
    static final String NAME = "DL4J 1.0.0-M2.1 Keras import (deeplearning4j-modelimport, nd4j-native)";

    private Dl4j() {
    }

    static OracleMain.Result predict(Path model, Path config, Map<String, Npy.Array> inputs) throws OracleMain.CannotRead {
        INDArray[] in = new INDArray[inputs.size()];
        int k = 0;
        for (Npy.Array a : inputs.values()) {
            in[k++] = Nd4j.create(a.toFloats(), a.shape(), 'c');
        }
        INDArray[] outs;
        List<String> names = new ArrayList<>();
        try {
            MultiLayerNetwork net = config == null
                    ? KerasModelImport.importKerasSequentialModelAndWeights(model.toString(), false)
                    : KerasModelImport.importKerasSequentialModelAndWeights(config.toString(), model.toString(), false);
            if (in.length != 1) {
                throw new OracleMain.CannotRead("DL4J reads it as a Sequential model, which takes one input, not " + in.length);
            }
            outs = new INDArray[] {net.output(in[0])};
            names.add("output");
        } catch (Exception | LinkageError sequentialFailed) {
            ComputationGraph g;
            try {
                g = config == null
                        ? KerasModelImport.importKerasModelAndWeights(model.toString(), false)
                        : KerasModelImport.importKerasModelAndWeights(config.toString(), model.toString(), false);
            } catch (Exception | LinkageError functionalFailed) {
                throw new OracleMain.CannotRead("DL4J cannot import " + model.getFileName() + ": " + OracleMain.reason(functionalFailed));
            }
            try {
                outs = g.output(in);
            } catch (RuntimeException e) {
                throw new OracleMain.CannotRead("DL4J imported " + model.getFileName() + " but cannot run it: " + OracleMain.reason(e));
            }
            names.addAll(g.getConfiguration().getNetworkOutputs());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < outs.length; i++) {
            String n = i < names.size() ? names.get(i) : "output_" + i;
            values.put(n, outs[i].dup('c').data().asFloat());
            shapes.put(n, outs[i].shape());
        }
        return new OracleMain.Result(NAME, values, shapes);
    }
}
