package graft.caffe;

import graft.caffe.proto.Caffe.FillerParameter;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.error.UnsupportedModelException;
import graft.ir.Attr;
import graft.ir.Op;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Caffe layers that normalise or re-arrange a tensor rather than compute a window:
 * BatchNorm (its running sums divided by the scale-factor blob), Scale (one or two bottoms,
 * broadcast from its axis), Flatten, Reshape and Slice with Caffe's axis conventions.
 */
final class TensorLayerReader {
    private final ImportContext c;

    TensorLayerReader(ImportContext c) {
        this.c = c;
    }

    void batchNorm(LayerParameter p) {
        String x = c.bottom(p, 0);
        long[] xs = c.shape(x);
        long ch = xs != null ? xs[1] : c.hasBlob(p, 0) ? c.blob(p, 0).elementCount() : -1;
        if (ch < 0) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (BatchNorm): channel count unknown");
        }
        float eps = p.getBatchNormParam().getEps();
        String mean;
        String var;
        if (c.hasBlob(p, 2)) {
            // Caffe keeps running sums; the third blob is the factor they are divided by (0 means 0).
            float[] sf = c.blob(p, 2).toFloats();
            float f = sf.length == 0 || sf[0] == 0 ? 0 : 1 / sf[0];
            mean = scaled(p, "mean", c.blob(p, 0), f, ch);
            c.fromModel++;
            var = scaled(p, "var", c.blob(p, 1), f, ch);
        } else {
            // No statistics yet (a renamed layer): mean 0, variance 1, as Keras and torch start a
            // BatchNorm. (Caffe's zero blobs with scale factor 0 would divide by sqrt(eps) at TEST.)
            FillerParameter zero = FillerParameter.getDefaultInstance();
            FillerParameter one = FillerParameter.newBuilder().setType("constant").setValue(1f).build();
            mean = c.param(p, 0, "mean", new long[] {ch}, zero);
            var = c.param(p, 1, "var", new long[] {ch}, one);
        }
        String scale = c.constant(p, "scale", new long[] {ch}, filled(ch, 1f));
        String bias = c.constant(p, "bias", new long[] {ch}, filled(ch, 0f));
        c.add(Op.BATCH_NORMALIZATION, p, null, List.of(x, scale, bias, mean, var), List.of(c.top(p, 0)),
                Map.of("epsilon", Attr.of(eps)));
    }

    private String scaled(LayerParameter p, String role, graft.ir.Weight blob, float factor, long ch) {
        if (blob.elementCount() != ch) {
            throw new graft.error.MalformedModelException(c.file, "blob " + role + " of layer '" + p.getName() + "' holds "
                    + blob.elementCount() + " values for " + ch + " channels");
        }
        float[] v = blob.toFloats();
        for (int i = 0; i < v.length; i++) {
            v[i] *= factor;
        }
        String name = p.getName() + "/" + role;
        c.g.addInitializer(graft.ir.Weight.ofFloats(name, new long[] {ch}, v));
        return name;
    }

    private static float[] filled(long n, float v) {
        float[] r = new float[(int) n];
        java.util.Arrays.fill(r, v);
        return r;
    }

    void scale(LayerParameter p) {
        var sp = p.getScaleParam();
        String x = c.bottom(p, 0);
        long[] xs = c.shape(x);
        int rank = c.rank(x);
        int axis = sp.getAxis() < 0 ? sp.getAxis() + rank : sp.getAxis();
        String factor;
        if (p.getBottomCount() > 1) {
            String y = c.bottom(p, 1);
            long[] ys = c.shape(y);
            if (ys == null || rank < 0) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Scale): two bottoms need known shapes");
            }
            long[] shape = broadcastShape(ys, axis, rank);
            factor = c.temp(p, "factor");
            c.add(Op.RESHAPE, p, "reshape", List.of(y, c.longs(p, "factor_shape", shape)), List.of(factor), Map.of());
        } else {
            if (xs == null && !c.hasBlob(p, 0)) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Scale): input shape unknown");
            }
            int num = sp.getNumAxes() < 0 ? rank - axis : sp.getNumAxes();
            long[] ws = xs != null ? java.util.Arrays.copyOfRange(xs, axis, axis + num) : c.blob(p, 0).shape();
            FillerParameter one = sp.hasFiller() ? sp.getFiller() : FillerParameter.newBuilder().setType("constant").setValue(1f).build();
            factor = c.param(p, 0, "scale", broadcastShape(ws, axis, rank), one);
        }
        if (!sp.getBiasTerm()) {
            c.add(Op.MUL, p, null, List.of(x, factor), List.of(c.top(p, 0)), Map.of());
            return;
        }
        String mul = c.temp(p, "mul");
        c.add(Op.MUL, p, "mul", List.of(x, factor), List.of(mul), Map.of());
        long[] fs = c.g.initializer(factor) != null ? c.g.initializer(factor).shape() : c.shape(factor);
        String bias = c.param(p, p.getBottomCount() > 1 ? 0 : 1, "bias", fs, sp.getBiasFiller());
        c.add(Op.ADD, p, null, List.of(mul, bias), List.of(c.top(p, 0)), Map.of());
    }

    /** A parameter shaped {@code s} applied from {@code axis} of a rank-{@code rank} input: trailing ones to broadcast. */
    private static long[] broadcastShape(long[] s, int axis, int rank) {
        int trailing = Math.max(0, rank - axis - s.length);
        long[] r = java.util.Arrays.copyOf(s, s.length + trailing);
        for (int i = s.length; i < r.length; i++) {
            r[i] = 1;
        }
        return r;
    }

    void flatten(LayerParameter p) {
        var fp = p.getFlattenParam();
        String x = c.bottom(p, 0);
        int rank = c.rank(x);
        int axis = fp.getAxis() < 0 ? fp.getAxis() + rank : fp.getAxis();
        int end = fp.getEndAxis() < 0 ? fp.getEndAxis() + rank : fp.getEndAxis();
        if (axis == 1 && end == rank - 1) {
            c.add(Op.FLATTEN, p, null, List.of(x), List.of(c.top(p, 0)), Map.of("axis", Attr.of(1L)));
            return;
        }
        long[] xs = c.shape(x);
        if (xs == null) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (Flatten): axis " + axis + " to " + end + " needs a known input shape");
        }
        List<Long> shape = new ArrayList<>();
        long prod = 1;
        for (int i = 0; i < xs.length; i++) {
            if (i < axis || i > end) {
                shape.add(xs[i]);
            } else {
                prod *= xs[i];
                if (i == end) {
                    shape.add(prod);
                }
            }
        }
        c.add(Op.RESHAPE, p, null, List.of(x, c.longs(p, "shape", shape.stream().mapToLong(Long::longValue).toArray())),
                List.of(c.top(p, 0)), Map.of());
    }

    void reshape(LayerParameter p) {
        var rp = p.getReshapeParam();
        String x = c.bottom(p, 0);
        long[] dims = rp.getShape().getDimList().stream().mapToLong(Long::longValue).toArray();
        if (rp.getAxis() != 0 || rp.getNumAxes() != -1) {
            long[] xs = c.shape(x);
            if (xs == null) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Reshape): axis/num_axes need a known input shape");
            }
            int axis = rp.getAxis() < 0 ? rp.getAxis() + xs.length + 1 : rp.getAxis();
            int end = rp.getNumAxes() < 0 ? xs.length : axis + rp.getNumAxes();
            List<Long> shape = new ArrayList<>();
            for (int i = 0; i < axis; i++) {
                shape.add(xs[i]);
            }
            for (int i = 0; i < dims.length; i++) {
                shape.add(dims[i] == 0 ? xs[axis + i] : dims[i]);
            }
            for (int i = end; i < xs.length; i++) {
                shape.add(xs[i]);
            }
            dims = shape.stream().mapToLong(Long::longValue).toArray();
        }
        c.add(Op.RESHAPE, p, null, List.of(x, c.longs(p, "shape", dims)), List.of(c.top(p, 0)), Map.of());
    }

    void slice(LayerParameter p) {
        var sp = p.getSliceParam();
        String x = c.bottom(p, 0);
        long[] xs = c.shape(x);
        int axis = !sp.hasAxis() && sp.hasSliceDim() ? sp.getSliceDim() : sp.getAxis();
        if (xs == null) {
            throw new UnsupportedModelException("layer '" + p.getName() + "' (Slice): needs a known input shape");
        }
        if (axis < 0) {
            axis += xs.length;
        }
        int n = p.getTopCount();
        long[] sizes = new long[n];
        if (sp.getSlicePointCount() == 0) {
            if (xs[axis] % n != 0) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Slice): " + xs[axis] + " does not split into " + n);
            }
            java.util.Arrays.fill(sizes, xs[axis] / n);
        } else {
            if (sp.getSlicePointCount() != n - 1) {
                throw new UnsupportedModelException("layer '" + p.getName() + "' (Slice): " + sp.getSlicePointCount()
                        + " slice points for " + n + " tops");
            }
            long prev = 0;
            for (int i = 0; i < n; i++) {
                long point = i < n - 1 ? sp.getSlicePoint(i) : xs[axis];
                sizes[i] = point - prev;
                prev = point;
            }
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            outs.add(c.top(p, i));
        }
        c.add(Op.SPLIT, p, null, List.of(x, c.longs(p, "split", sizes)), outs, Map.of("axis", Attr.of((long) axis)));
    }
}
