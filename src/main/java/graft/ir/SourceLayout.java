package graft.ir;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layout in which the source framework holds a rank-4 value that the IR holds as NCHW. A
 * Keras channels_last layer's output is an NHWC tensor in Keras and its NCHW transpose in the IR; a
 * channels_first layer's is the same tensor in both. Importers that know it record it on the
 * producing node (a node extra, not written to any file), so that a command handing an
 * intermediate tensor to the user (features, a cut model) gives it in the source's layout, even in
 * a model that mixes both data formats. Unrecorded (ONNX, Caffe, nodes an edit added): null.
 */
public final class SourceLayout {
    /** The node extra's key; its value is {@code NHWC} or {@code NCHW}. */
    public static final String KEY = "source.layout";

    private SourceLayout() {
    }

    /** {@code n} with its output recorded as held NHWC ({@code nhwc}) or NCHW by the source framework. */
    public static Node record(Node n, boolean nhwc) {
        Map<String, byte[]> e = new LinkedHashMap<>(n.extras());
        e.put(KEY, (nhwc ? "NHWC" : "NCHW").getBytes(StandardCharsets.US_ASCII));
        return n.withExtras(e);
    }

    /** TRUE when the source framework holds {@code value} as NHWC, FALSE as NCHW, null when not recorded. */
    public static Boolean nhwc(Graph g, String value) {
        Node p = g.producer(value);
        byte[] b = p == null ? null : p.extras().get(KEY);
        return b == null ? null : "NHWC".equals(new String(b, StandardCharsets.US_ASCII));
    }
}
