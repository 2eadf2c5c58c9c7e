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
 * nets; those refusals come back as the one-line reason.
 */
final class OpenCv {
    private OpenCv() {
    }

    static OracleMain.Result predict(Path model, Path weights, Map<String, Npy.Array> inputs) throws OracleMain.CannotRead {
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
            net.forward(outs, outNames);
        } catch (RuntimeException e) {
            throw new OracleMain.CannotRead("OpenCV " + Core.VERSION + " read " + model.getFileName() + " but cannot run it: " + OracleMain.reason(e));
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < outs.size(); i++) {
            Mat m = outs.get(i);
            long[] shape = new long[m.dims()];
            for (int d = 0; d < shape.length; d++) {
                shape[d] = m.size(d);
            }
            float[] v = new float[(int) m.total()];
            m.get(new int[shape.length], v);
            String n = i < outNames.size() ? outNames.get(i) : "output_" + i;
            values.put(n, v);
            shapes.put(n, shape);
        }
        return new OracleMain.Result("OpenCV " + Core.VERSION + " dnn (its own " + what + " importer)", values, shapes);
    }
}
