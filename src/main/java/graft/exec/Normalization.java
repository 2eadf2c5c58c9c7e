package graft.exec;

import graft.ir.Node;

/** BatchNormalization (inference and training mode), LRN, Softmax and LogSoftmax, in float64. */
final class Normalization {
    private Normalization() {
    }

    /**
     * BatchNormalization over axis 1. In training mode the batch statistics normalise and the
     * running mean and variance outputs are updated with {@code momentum}, as ONNX 15+ defines.
     */
    static NdArray[] batchNorm(Node n, NdArray x, NdArray scale, NdArray bias, NdArray mean, NdArray var, int outputs) {
        double eps = n.floatAttr("epsilon");
        double momentum = n.floatAttr("momentum");
        boolean training = n.intAttr("training_mode") != 0;
        int batch = x.shape[0];
        int c = x.rank() > 1 ? x.shape[1] : 1;
        int plane = x.size() / Math.max(1, batch * c);
        double[] mu = new double[c];
        double[] sigma2 = new double[c];
        for (int ch = 0; ch < c; ch++) {
            if (training) {
                double s = 0;
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < plane; i++) {
                        s += x.get((b * c + ch) * plane + i);
                    }
                }
                double m = s / ((double) batch * plane);
                double q = 0;
                for (int b = 0; b < batch; b++) {
                    for (int i = 0; i < plane; i++) {
                        double d = x.get((b * c + ch) * plane + i) - m;
                        q += d * d;
                    }
                }
                mu[ch] = m;
                sigma2[ch] = q / ((double) batch * plane);
            } else {
                mu[ch] = mean.get(ch);
                sigma2[ch] = var.get(ch);
            }
        }
        float[] y = new float[x.size()];
        for (int b = 0; b < batch; b++) {
            for (int ch = 0; ch < c; ch++) {
                double g = scale.get(ch) / Math.sqrt(sigma2[ch] + eps);
                double bb = bias.get(ch);
                int base = (b * c + ch) * plane;
                for (int i = 0; i < plane; i++) {
                    y[base + i] = (float) ((x.get(base + i) - mu[ch]) * g + bb);
                }
            }
        }
        NdArray[] r = new NdArray[outputs];
        r[0] = NdArray.floats(x.dtype, x.shape, y);
        if (outputs > 1) {
            float[] rm = new float[c];
            float[] rv = new float[c];
            for (int ch = 0; ch < c; ch++) {
                rm[ch] = (float) (mean.get(ch) * momentum + mu[ch] * (1 - momentum));
                rv[ch] = (float) (var.get(ch) * momentum + sigma2[ch] * (1 - momentum));
            }
            r[1] = NdArray.floats(mean.dtype, mean.shape, rm);
            if (outputs > 2) {
                r[2] = NdArray.floats(var.dtype, var.shape, rv);
            }
        }
        return r;
    }

    /** LRN across channels: x / (bias + alpha / size * sum of squares in the window) ^ beta. */
    static NdArray lrn(Node n, NdArray x) {
        double alpha = n.floatAttr("alpha");
        double beta = n.floatAttr("beta");
        double bias = n.floatAttr("bias");
        int size = (int) n.intAttr("size", 1);
        int batch = x.shape[0];
        int c = x.shape[1];
        int plane = x.size() / (batch * c);
        int before = (size - 1) / 2;
        int after = size - 1 - before;
        float[] y = new float[x.size()];
        Parallel.range(batch * c, (long) plane * size, bc -> {
            int b = bc / c;
            int ch = bc % c;
            int lo = Math.max(0, ch - before);
            int hi = Math.min(c - 1, ch + after);
            for (int i = 0; i < plane; i++) {
                double s = 0;
                for (int k = lo; k <= hi; k++) {
                    double v = x.get((b * c + k) * plane + i);
                    s += v * v;
                }
                int at = (b * c + ch) * plane + i;
                y[at] = (float) (x.get(at) / Math.pow(bias + alpha / size * s, beta));
            }
        });
        return NdArray.floats(x.dtype, x.shape, y);
    }

    /** Softmax or LogSoftmax along one axis (opset 13 semantics). */
    static NdArray softmax(Node n, NdArray x, boolean log) {
        int axis = (int) n.intAttr("axis");
        if (axis < 0) {
            axis += x.rank();
        }
        int len = x.shape[axis];
        int inner = 1;
        for (int i = axis + 1; i < x.rank(); i++) {
            inner *= x.shape[i];
        }
        int outer = x.size() / Math.max(1, len * inner);
        float[] y = new float[x.size()];
        int in = inner;
        Parallel.range(outer, (long) len * inner * 4, o -> {
            for (int j = 0; j < in; j++) {
                int base = o * len * in + j;
                double mx = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < len; i++) {
                    mx = Math.max(mx, x.get(base + i * in));
                }
                double s = 0;
                for (int i = 0; i < len; i++) {
                    s += Math.exp(x.get(base + i * in) - mx);
                }
                double ls = Math.log(s);
                for (int i = 0; i < len; i++) {
                    double d = x.get(base + i * in) - mx;
                    y[base + i * in] = (float) (log ? d - ls : Math.exp(d) / s);
                }
            }
        });
        return NdArray.floats(x.dtype, x.shape, y);
    }
}
