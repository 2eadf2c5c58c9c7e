package graft.caffe;

import graft.caffe.proto.Caffe.PoolingParameter;
import graft.ir.Node;
import graft.ir.Op;

/**
 * Where Caffe's window arithmetic and ONNX's meet: symmetric padding only, pooled sizes
 * rounded up, and AVE pooling's divisor counting the padding but not what lies beyond it.
 * Each check either proves the Caffe layer computes exactly what the node computes, or
 * records why not.
 */
final class Geometry {
    private Geometry() {
    }

    /** Begin and end pads per spatial axis, auto_pad resolved; null (and refused) when unknown. */
    static long[][] pads(Node n, long[] xs, long[] k, long[] s, long[] d, ExportPlanner p) {
        String auto = n.stringAttr("auto_pad");
        long[][] r = new long[2][2];
        if (auto.equals("VALID")) {
            return r;
        }
        if (auto.startsWith("SAME")) {
            if (xs == null || xs[2] < 0 || xs[3] < 0) {
                p.refuse(n, "auto_pad " + auto + " on an input of unknown size");
                return null;
            }
            for (int i = 0; i < 2; i++) {
                long in = xs[2 + i];
                long eff = d[i] * (k[i] - 1) + 1;
                long total = Math.max(0, (Math.floorDiv(in + s[i] - 1, s[i]) - 1) * s[i] + eff - in);
                long small = total / 2;
                r[0][i] = auto.equals("SAME_UPPER") ? small : total - small;
                r[1][i] = total - r[0][i];
            }
            return r;
        }
        long[] pads = n.intsAttr("pads", new long[4]);
        if (pads.length != 4) {
            p.refuse(n, "only 2-D windows are written to Caffe");
            return null;
        }
        r[0][0] = pads[0];
        r[0][1] = pads[1];
        r[1][0] = pads[2];
        r[1][1] = pads[3];
        return r;
    }

    /** Caffe's symmetric (pad_h, pad_w) for a convolution; null (refused) when the node pads asymmetrically. */
    static long[] symmetricPads(Node n, long[] xs, long[] k, long[] s, long[] d, ExportPlanner p) {
        long[][] r = pads(n, xs, k, s, d, p);
        if (r == null) {
            return null;
        }
        if (r[0][0] != r[1][0] || r[0][1] != r[1][1]) {
            long dh = r[1][0] - r[0][0];
            long dw = r[1][1] - r[0][1];
            // TensorFlow's 'same' splits an odd total with the extra pixel at the end; Caffe cannot
            String same = dh >= 0 && dh <= 1 && dw >= 0 && dw <= 1 ? ": Keras/TensorFlow 'same' padding, the odd pixel at the end" : "";
            p.refuse(n, "asymmetric padding (begin " + r[0][0] + "," + r[0][1] + " end " + r[1][0] + "," + r[1][1]
                    + same + "); Caffe pads both sides alike and has no padding layer");
            return null;
        }
        return r[0];
    }

    /**
     * The Caffe pooling that computes exactly what this MaxPool/AveragePool computes, or null.
     * {@code prePad} is the zero padding of an absorbed Pad node (AveragePool that excludes
     * padding), and then {@code xs} is the Pad's input shape.
     */
    static PoolingParameter.Builder pooling(Node n, boolean max, long[] xs, long[] ys, long[] prePad, ExportPlanner p) {
        if (xs == null || ys == null || xs.length != 4 || xs[2] < 0 || xs[3] < 0 || ys[2] < 0 || ys[3] < 0) {
            p.refuse(n, "Caffe rounds pooled sizes up; graft writes a pooling only on a fixed-size 4-D input, where it can check the sizes agree");
            return null;
        }
        long[] k = n.intsAttr("kernel_shape", null);
        long[] s = n.intsAttr("strides", new long[] {1, 1});
        long[] d = n.intsAttr("dilations", new long[] {1, 1});
        if (k == null || k.length != 2 || d[0] != 1 || d[1] != 1) {
            p.refuse(n, "only 2-D, undilated pooling windows are written to Caffe");
            return null;
        }
        long[][] pads = pads(n, xs, k, s, d, p);
        if (pads == null) {
            return null;
        }
        boolean cip = n.intAttr("count_include_pad") == 1;
        long[] c = new long[2];
        for (int i = 0; i < 2; i++) {
            long in = xs[2 + i];
            c[i] = prePad != null ? prePad[i] : pads[0][i];
            long o = LayerReader.caffePooledSize(in, k[i], c[i], s[i], true);
            if (o != ys[2 + i]) {
                p.refuse(n, "Caffe's pooling rounds up and gives " + o + " at axis " + (2 + i) + " where this node gives " + ys[2 + i]);
                return null;
            }
            if (c[i] >= k[i]) {
                p.refuse(n, "padding " + c[i] + " is not smaller than the window " + k[i] + ", which Caffe requires");
                return null;
            }
            if (!max && prePad == null && c[i] > 0) {
                boolean overhang = (o - 1) * s[i] - c[i] + k[i] > in + c[i];
                if (!cip || pads[1][i] != pads[0][i] || overhang) {
                    p.refuse(n, "Caffe's average pooling divides by the window clipped to the padded input; with padding "
                            + c[i] + " this node divides differently");
                    return null;
                }
            }
            if (!max && prePad == null && c[i] == 0 && cip && pads[1][i] > 0) {
                p.refuse(n, "an average pooling that counts end padding Caffe does not add");
                return null;
            }
        }
        if (max && n.outputs().size() > 1 && !n.output(1).isEmpty()) {
            p.refuse(n, "MaxPool indices have no Caffe equivalent");
            return null;
        }
        PoolingParameter.Builder b = PoolingParameter.newBuilder()
                .setPool(max ? PoolingParameter.PoolMethod.MAX : PoolingParameter.PoolMethod.AVE);
        if (k[0] == k[1]) {
            b.setKernelSize((int) k[0]);
        } else {
            b.setKernelH((int) k[0]).setKernelW((int) k[1]);
        }
        if (s[0] == s[1]) {
            b.setStride((int) s[0]);
        } else {
            b.setStrideH((int) s[0]).setStrideW((int) s[1]);
        }
        if (c[0] == c[1]) {
            if (c[0] != 0) {
                b.setPad((int) c[0]);
            }
        } else {
            b.setPadH((int) c[0]).setPadW((int) c[1]);
        }
        assert n.op() == Op.MAX_POOL || n.op() == Op.AVERAGE_POOL;
        return b;
    }
}
