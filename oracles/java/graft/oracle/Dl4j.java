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
 * first, then the functional import; a model neither reads is refused with DL4J's reason. With
 * {@code layers}, every layer's activation too: {@code feedForward} (layer by layer for a
 * Sequential model, vertex by vertex for a functional one), keyed by the Keras layer name.
 */
final class Dl4j {
    static final String NAME = "DL4J 1.0.0-M2.1 Keras import (deeplearning4j-modelimport, nd4j-native)";

    private Dl4j() {
    }

    static OracleMain.Result predict(Path model, Path config, Map<String, Npy.Array> inputs, boolean layers) throws OracleMain.CannotRead {
        INDArray[] in = new INDArray[inputs.size()];
        int k = 0;
        for (Npy.Array a : inputs.values()) {
            in[k++] = Nd4j.create(a.toFloats(), a.shape(), 'c');
        }
        INDArray[] outs;
        List<String> names = new ArrayList<>();
        Map<String, INDArray> acts = new LinkedHashMap<>();
        try {
            MultiLayerNetwork net = config == null
                    ? KerasModelImport.importKerasSequentialModelAndWeights(model.toString(), false)
                    : KerasModelImport.importKerasSequentialModelAndWeights(config.toString(), model.toString(), false);
            if (in.length != 1) {
                throw new OracleMain.CannotRead("DL4J reads it as a Sequential model, which takes one input, not " + in.length);
            }
            outs = new INDArray[] {net.output(in[0])};
            names.add("output");
            if (layers) {
                List<INDArray> ff = net.feedForward(in[0], false);
                for (int i = 0; i < net.getnLayers() && i + 1 < ff.size(); i++) {
                    acts.put(net.getLayer(i).conf().getLayer().getLayerName(), ff.get(i + 1));
                }
            }
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
            if (layers) {
                Map<String, INDArray> ff = g.feedForward(in, false);
                for (int v : g.topologicalSortOrder()) {
                    String n = g.getVertices()[v].getVertexName();
                    if (!g.getVertices()[v].isInputVertex() && ff.containsKey(n)) {
                        acts.put(n, ff.get(n));
                    }
                }
            }
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < outs.length; i++) {
            String n = i < names.size() ? names.get(i) : "output_" + i;
            values.put(n, outs[i].dup('c').data().asFloat());
            shapes.put(n, outs[i].shape());
        }
        Map<String, float[]> layerValues = new LinkedHashMap<>();
        Map<String, long[]> layerShapes = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : acts.entrySet()) {
            layerValues.put(e.getKey(), e.getValue().dup('c').data().asFloat());
            layerShapes.put(e.getKey(), e.getValue().shape());
        }
        return new OracleMain.Result(NAME, values, shapes, layerValues, layerShapes);
    }
}
