package graft.data;

import graft.ir.Op;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.TensorType;
import graft.ir.Value;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The layout a model's image input declares. Samples are held CHW; a channels-last input (a
 * Keras model: [N, H, W, C], which the Keras importer turns to NCHW with a Transpose right
 * after the input) is fed its batches transposed to NHWC.
 */
public final class InputLayout {
    private InputLayout() {
    }

    /**
     * True when the model's first input is a rank-4 channels-last image: its metadata says
     * {@code preprocess.layout=NHWC} (NCHW says no: a Caffe model graft wrote from a Keras one), or the input feeds a
     * Transpose with perm [0, 3, 1, 2] (NHWC to NCHW), or its last dim is a fixed 1..4 channel
     * count while its second is not.
     */
    public static boolean channelsLast(Graph g) {
        String declared = g.metadata().get("preprocess.layout");
        if (declared != null && (declared.equalsIgnoreCase("NCHW") || declared.equalsIgnoreCase("NHWC"))) {
            return declared.equalsIgnoreCase("NHWC");
        }
        Value in = imageInput(g);
        if (in == null) {
            return false;
        }
        TensorType t = g.type(in.name()) != null ? g.type(in.name()) : in.type();
        if (t == null || t.shape() == null || t.shape().rank() != 4) {
            return false;
        }
        List<Node> users = g.consumers(in.name());
        if (!users.isEmpty() && users.stream().allMatch(n -> n.op() == Op.TRANSPOSE
                && java.util.Arrays.equals(n.intsAttr("perm", new long[0]), new long[] {0, 3, 1, 2}))) {
            return true;
        }
        Dim c = t.shape().dim(3);
        Dim d1 = t.shape().dim(1);
        return c.isFixed() && c.value() >= 1 && c.value() <= 4 && !(d1.isFixed() && d1.value() <= 4);
    }

    /**
     * True when CHW samples of {@code sampleShape} must be transposed to feed the model: its
     * input is channels-last, the samples do not fit it as they are (an .npy array already in
     * the model's layout does) and fit it as [H, W, C]. Only fixed dims are compared.
     */
    public static boolean feedsNhwc(Graph g, long[] sampleShape) {
        if (sampleShape.length != 3 || !channelsLast(g)) {
            return false;
        }
        Value in = imageInput(g);
        TensorType t = g.type(in.name()) != null ? g.type(in.name()) : in.type();
        long[] hwc = {sampleShape[1], sampleShape[2], sampleShape[0]};
        return !fits(t, sampleShape) && fits(t, hwc);
    }

    /** The first input a caller feeds (IR 3 also lists weights as inputs), or null. */
    private static Value imageInput(Graph g) {
        return g.inputs().stream().filter(v -> g.initializer(v.name()) == null).findFirst().orElse(null);
    }

    private static boolean fits(TensorType t, long[] s) {
        for (int i = 0; i < 3; i++) {
            Dim d = t.shape().dim(i + 1);
            if (d.isFixed() && d.value() != s[i]) {
                return false;
            }
        }
        return true;
    }

    /** A batch [n, C, H, W] as [n, H, W, C] (a new direct buffer). */
    public static FloatBuffer toNhwc(FloatBuffer nchw, long[] shape) {
        int n = (int) shape[0];
        int c = (int) shape[1];
        int h = (int) shape[2];
        int w = (int) shape[3];
        FloatBuffer src = nchw.duplicate();
        int base = src.position();
        FloatBuffer out = ByteBuffer.allocateDirect(n * c * h * w * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        out.put(src.get(base + ((i * c + ch) * h + y) * w + x));
                    }
                }
            }
        }
        out.flip();
        return out;
    }

    /** [n, C, H, W] as [n, H, W, C]. */
    public static long[] nhwcShape(long[] nchw) {
        return new long[] {nchw[0], nchw[2], nchw[3], nchw[1]};
    }
}
