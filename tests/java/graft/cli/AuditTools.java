package graft.cli;

import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.testing.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The silent-output audits' stateless helpers: which layer a check looks at, a layer's weights
 * and output, the error measures the audits state their tolerance in, and file listings.
 */
final class AuditTools {
    private AuditTools() {
    }

    /** The layer features stops at: a pooling layer nearest the middle, else the middle layer (never the last). */
    static String featureLayer(Graph g) {
        List<String> layers = g.layers().stream().filter(l -> l != null).toList();
        if (layers.size() < 2) {
            return null;
        }
        int mid = layers.size() / 2;
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (Node n : g.nodes()) {
            if (n.layer() == null || n.op() == null) {
                continue;
            }
            String op = n.op().name();
            if (op.equals("MAX_POOL") || op.equals("AVERAGE_POOL")) {
                int i = layers.indexOf(n.layer());
                if (i < layers.size() - 1 && Math.abs(i - mid) < bestDistance) {
                    best = n.layer();
                    bestDistance = Math.abs(i - mid);
                }
            }
        }
        return best != null ? best : layers.get(mid - 1);
    }

    /** The value a layer hands on: its last node's first output. */
    static String lastOutput(Graph g, String layer) {
        String v = null;
        for (Node n : g.nodes()) {
            if (layer.equals(n.layer())) {
                v = n.outputs().get(0);
            }
        }
        return v;
    }

    static java.nio.ByteBuffer longs(long[] v) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(v.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.flip();
    }

    /** The model's output shape as the IR declares it (an unknown dimension reads 1). */
    static long[] outputShape(Graph g) {
        try {
            graft.ir.TensorType t = g.type(g.outputs().get(0).name());
            long[] shape = new long[t.shape().rank()];
            for (int k = 0; k < shape.length; k++) {
                graft.ir.Dim d = t.shape().dim(k);
                shape[k] = d.isFixed() ? d.value() : 1;
            }
            return shape;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** null when every float weight of the frozen layer reads back bit-identical, else what differs. */
    static String frozenMoved(Graph source, String layer, Graph back, String again) {
        if (again == null) {
            return "not found in the saved model";
        }
        List<float[]> a = layerWeights(source, layer);
        List<float[]> b = layerWeights(back, again);
        if (a.size() != b.size()) {
            return a.size() + " weights in the source, " + b.size() + " as '" + again + "' in the saved model";
        }
        for (int k = 0; k < a.size(); k++) {
            if (!java.util.Arrays.equals(a.get(k), b.get(k))) {
                float worst = 0;
                for (int i = 0; i < Math.min(a.get(k).length, b.get(k).length); i++) {
                    worst = Math.max(worst, Math.abs(a.get(k)[i] - b.get(k)[i]));
                }
                return "weight " + k + " differs (max |diff| " + worst + ", " + a.get(k).length + " vs " + b.get(k).length + " values)";
            }
        }
        return null;
    }

    static List<float[]> layerWeights(Graph g, String layer) {
        List<float[]> r = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (Node n : g.nodes()) {
            if (layer.equals(n.layer())) {
                for (String x : n.inputs()) {
                    if (x != null && g.initializer(x) != null && g.initializer(x).dtype().isFloating() && seen.add(x)) {
                        r.add(g.initializer(x).toFloats());
                    }
                }
            }
        }
        return r;
    }

    /** The run's checkpoint: tensor name -> .npy, from checkpoint.json. */
    static Map<String, Path> checkpoint(Path dir) throws IOException {
        Path json = dir.resolve("checkpoint.json");
        if (!Files.isRegularFile(json)) {
            return null;
        }
        com.fasterxml.jackson.databind.JsonNode tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile()).get("tensors");
        Map<String, Path> r = new LinkedHashMap<>();
        tree.fields().forEachRemaining(e -> r.put(e.getKey(), dir.resolve(e.getValue().asText())));
        return r;
    }

    /** Relative-to-magnitude error of tensors of the same shape; infinite when the shapes differ. */
    static double exactError(Tensor got, Tensor ref) {
        return java.util.Arrays.equals(got.shape(), ref.shape()) ? Errors.relativeToMagnitude(got, ref) : Double.POSITIVE_INFINITY;
    }

    /** Relative-to-magnitude error, looking through an NCHW<->NHWC permutation of a 4-D output. */
    static double error(Tensor got, Tensor ref) {
        if (java.util.Arrays.equals(got.shape(), ref.shape())) {
            return Errors.relativeToMagnitude(got, ref);
        }
        long[] s = got.shape();
        if (s.length == 4) {
            long[] r = ref.shape();
            if (r.length == 4 && r[0] == s[0] && r[1] == s[3] && r[2] == s[1] && r[3] == s[2]) {
                return Errors.relativeToMagnitude(permute(got, true), ref);
            }
            if (r.length == 4 && r[0] == s[0] && r[1] == s[2] && r[2] == s[3] && r[3] == s[1]) {
                return Errors.relativeToMagnitude(permute(got, false), ref);
            }
        }
        return Double.POSITIVE_INFINITY;
    }

    /** NHWC -> NCHW when {@code toNchw}, else NCHW -> NHWC. */
    static Tensor permute(Tensor t, boolean toNchw) {
        long[] s = t.shape();
        float[] in = t.toFloats();
        float[] out = new float[in.length];
        int n = (int) s[0];
        int a = (int) s[1];
        int b = (int) s[2];
        int c = (int) s[3];
        // source index (i, x, y, z) over dims (n, a, b, c)
        for (int i = 0; i < n; i++) {
            for (int x = 0; x < a; x++) {
                for (int y = 0; y < b; y++) {
                    for (int z = 0; z < c; z++) {
                        int src = ((i * a + x) * b + y) * c + z;
                        int dst = toNchw ? ((i * c + z) * a + x) * b + y : ((i * b + y) * c + z) * a + x;
                        out[dst] = in[src];
                    }
                }
            }
        }
        long[] shape = toNchw ? new long[] {n, c, a, b} : new long[] {n, b, c, a};
        return Tensor.ofFloats(shape, out);
    }

    /**
     * The first layer with parameters as graft (and Keras) count them: a layer whose only weights
     * are constants (Rescaling's scale and offset, Normalization's statistics) has none to freeze.
     */
    static String firstLayerWithParameters(Graph g) {
        for (graft.ir.LayerTable.Row r : graft.ir.LayerTable.of(g)) {
            if (r.params() - r.fixed() > 0) {
                return r.layer();
            }
        }
        return null;
    }

    static Set<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? n : n.substring(0, dot);
    }

    static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }
}
