package graft.oracle;

import graft.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.dnn.Dnn;
import org.opencv.dnn.Net;

/**
 * OpenCV's dnn module (org.openpnp:opencv, its natives loaded from the jar): its own Caffe
 * importer (prototxt + caffemodel) or its own ONNX importer, and its own CPU kernels. Inputs
 * NCHW as Caffe and ONNX take them. OpenCV refuses convolutions without weights and train_val
 * nets; those refusals come back as the one-line reason. With {@code layers}, every layer's
 * output too (the net forwarded to all its layer names, layer fusion off so that a Convolution's
 * output is not its fused ReLU's).
 */
final class OpenCv {
    private OpenCv() {
    }

    static OracleMain.Result predict(Path model, Path weights, Map<String, Npy.Array> inputs, boolean layers) throws OracleMain.CannotRead {
        nu.pattern.OpenCV.loadLocally();
        String name = model.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        Net net;
        String what;
        try {
            if (name.endsWith(".onnx")) {
                net = Dnn.readNetFromONNX(model.toString());
                what = "ONNX";
            } else {
                if (weights == null) {
                    throw new OracleMain.CannotRead("OpenCV runs a Caffe net only with its weights: give the .caffemodel");
                }
                net = Dnn.readNetFromCaffe(model.toString(), weights.toString());
                what = "Caffe";
            }
        } catch (RuntimeException e) {
            throw new OracleMain.CannotRead("OpenCV " + Core.VERSION + " cannot read " + model.getFileName() + ": " + OracleMain.reason(e));
        }
        if (net.empty()) {
            throw new OracleMain.CannotRead("OpenCV " + Core.VERSION + " read an empty net from " + model.getFileName());
        }
        List<String> outNames = net.getUnconnectedOutLayersNames();
        List<String> asked = outNames;
        if (layers) {
            net.enableFusion(false);
            asked = new ArrayList<>(net.getLayerNames());
            for (String n : outNames) {
                if (!asked.contains(n)) {
                    asked.add(n);
                }
            }
        }
        List<Mat> all = new ArrayList<>();
        List<Mat> outs = new ArrayList<>();
        try {
            for (Map.Entry<String, Npy.Array> e : inputs.entrySet()) {
                long[] s = e.getValue().shape();
                int[] dims = new int[s.length];
                for (int i = 0; i < s.length; i++) {
                    dims[i] = Math.toIntExact(s[i]);
                }
                Mat m = new Mat(dims, CvType.CV_32F);
                m.put(new int[dims.length], e.getValue().toFloats());
                if (inputs.size() == 1) {
                    net.setInput(m);
                } else {
                    net.setInput(m, e.getKey());
                }
            }
            net.forward(all, asked);
            for (String n : outNames) {
                outs.add(all.get(asked.indexOf(n)));
            }
        } catch (RuntimeException e) {
            throw new OracleMain.CannotRead("OpenCV " + Core.VERSION + " read " + model.getFileName() + " but cannot run it: " + OracleMain.reason(e));
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < outs.size(); i++) {
            put(i < outNames.size() ? outNames.get(i) : "output_" + i, outs.get(i), values, shapes);
        }
        Map<String, float[]> layerValues = new LinkedHashMap<>();
        Map<String, long[]> layerShapes = new LinkedHashMap<>();
        if (layers) {
            for (int i = 0; i < asked.size(); i++) {
                put(asked.get(i), all.get(i), layerValues, layerShapes);
            }
        }
        return new OracleMain.Result("OpenCV " + Core.VERSION + " dnn (its own " + what + " importer)", values, shapes, layerValues, layerShapes);
    }

    private static void put(String name, Mat m, Map<String, float[]> values, Map<String, long[]> shapes) {
        long[] shape = new long[m.dims()];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = m.size(d);
        }
        float[] v = new float[(int) m.total()];
        m.get(new int[shape.length], v);
        values.put(name, v);
        shapes.put(name, shape);
    }
}
