package graft.data;

import graft.ir.Preprocessing;

/**
 * How an image folder's files become model inputs, as {@link ImageFolder} reads them: {@code h} x
 * {@code w} (a square {@code resize} side when h = w, else 0), {@code channels}, the
 * preprocessing rule, and the Caffe centre {@code window} of features (0: none). Serializable, so
 * that a Spark executor decodes exactly as the single-machine reader does.
 */
public record ImageShape(int h, int w, int resize, int channels, Preprocessing pre, int window) implements java.io.Serializable {

    /**
     * The channels, height and width images are read at for {@code g}'s input: the input's fixed
     * channels (else 3) and fixed H x W, else {@code size} (else 224, or with a crop {@code window}
     * 256 or the window if larger) square. {@code images}: the data are images, so a channels-last
     * (Keras) input's dims are read NHWC.
     */
    public static int[] inputSize(graft.ir.Graph g, Integer size, int window, boolean images) {
        graft.ir.Value in = g.inputs().get(0);
        graft.ir.TensorType t = in.type() != null ? in.type() : g.type(in.name());
        int channels = 3;
        int side = size != null ? size : window > 0 ? Math.max(256, window) : 224;
        int width = -1;
        // the layout the model's input declares: NCHW, or NHWC (Keras), whose batches are transposed when fed
        boolean last = InputLayout.channelsLast(g) && images;
        int cAxis = last ? 3 : 1;
        int hAxis = last ? 1 : 2;
        if (t != null && t.shape() != null && t.shape().rank() == 4) {
            if (t.shape().dim(cAxis).isFixed()) {
                channels = (int) t.shape().dim(cAxis).value();
            }
            if (size == null && window == 0 && t.shape().dim(hAxis).isFixed()) {
                side = (int) t.shape().dim(hAxis).value();
                // a fixed input that is not square (H != W) gets H x W images, as run/validate --images make them
                if (t.shape().dim(hAxis + 1).isFixed()) {
                    width = (int) t.shape().dim(hAxis + 1).value();
                }
            }
        }
        return new int[] {channels, side, width < 0 ? side : width};
    }

    /** As {@link #inputSize}: the shape an image folder is read at for {@code g}, with {@code pre}. */
    public static ImageShape of(graft.ir.Graph g, Integer size, int window, Preprocessing pre) {
        int[] chw = inputSize(g, size, window, true);
        return new ImageShape(chw[1], chw[2], chw[1] == chw[2] ? chw[1] : 0, chw[0], pre, window);
    }

    /** Values of one decoded image, before any window: channels x h x w. */
    public int values() {
        return channels * h * w;
    }

    /** One image's bytes as CHW model input into {@code out} from {@code offset} ({@link ImageFolder#image}). */
    public void decode(byte[] bytes, String name, float[] out, int offset) {
        ImageFolder.image(ImageDecoder.read(bytes, name), h, w, resize, channels, pre, out, offset);
    }

    /** Decoded images ({@link #values} each, in {@code data}) as the samples features runs on: the centre window taken when there is one. */
    public Samples samples(float[] data, long[] labels, java.util.List<String> classes) {
        Samples s = new Samples(data, labels, new long[] {channels, h, w}, classes);
        return window > 0 ? Crops.centered(s, window) : s;
    }

    /** Fixes {@code g}'s symbolic input dims to samples of {@code sampleShape} (cropped to {@code window}, NHWC when {@code last}). */
    public static void fixInput(graft.ir.Graph g, long[] sampleShape, int window, boolean last) {
        graft.ir.Value in = g.inputs().get(0);
        graft.ir.TensorType t = in.type() != null ? in.type() : g.type(in.name());
        long[] s = sampleShape.clone();
        if (window > 0 && s.length == 3) {
            s[1] = window;
            s[2] = window;
        }
        if (last && s.length == 3) {
            s = new long[] {s[1], s[2], s[0]};
        }
        if (t != null && t.shape() != null && t.shape().rank() == s.length + 1) {
            graft.ir.Dim[] dims = new graft.ir.Dim[s.length + 1];
            dims[0] = t.shape().dim(0).isFixed() ? graft.ir.Dim.sym("N") : t.shape().dim(0);
            for (int i = 0; i < s.length; i++) {
                graft.ir.Dim d = t.shape().dim(i + 1);
                dims[i + 1] = d.isFixed() ? d : graft.ir.Dim.of(s[i]);
            }
            g.inputs().set(0, new graft.ir.Value(in.name(), new graft.ir.TensorType(graft.ir.DataType.FLOAT, graft.ir.Shape.of(dims))));
        }
    }
}
