package graft.caffe;

import graft.caffe.proto.Caffe.FillerParameter;
import graft.error.UnsupportedModelException;
import graft.ir.DataType;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Caffe's weight fillers, used for layers the caffemodel has no blobs for (a renamed layer
 * such as fc8_flickr, or a prototxt read alone). Values are made lazily, once, from a
 * generator seeded by the weight's name, so the same net always gets the same numbers.
 * Fan-in and fan-out follow Caffe: count / shape[0] and count / shape[1].
 */
final class Fillers {
    private Fillers() {
    }

    static Weight fill(String name, long[] shape, FillerParameter f, long seed, String layer) {
        String type = f.getType();
        switch (type) {
            case "constant", "gaussian", "uniform", "xavier", "msra", "bilinear", "positive_unitball" -> {
            }
            default -> throw new UnsupportedModelException("layer '" + layer + "' (filler): filler type '" + type
                    + "' is not one graft knows (constant, gaussian, uniform, xavier, msra, bilinear, positive_unitball)");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new UnsupportedModelException("layer '" + layer + "': weight '" + name + "' would have shape "
                        + java.util.Arrays.toString(shape) + ", with a negative dimension");
            }
            count = count > 0 && d > Integer.MAX_VALUE / count ? Long.MAX_VALUE : count * d;
        }
        if (count > Integer.MAX_VALUE) {
            throw new UnsupportedModelException("layer '" + layer + "': weight '" + name + "' would have shape "
                    + java.util.Arrays.toString(shape) + ", more than 2^31 values (an absurd input or layer size)");
        }
        int n = (int) count;
        long s = seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L);
        return new Weight(name, DataType.FLOAT, shape, WeightData.lazy(4L * n, () -> values(shape, n, f, s)));
    }

    private static ByteBuffer values(long[] shape, int n, FillerParameter f, long seed) {
        float[] v = new float[n];
        SplittableRandom r = new SplittableRandom(seed);
        double fanIn = shape.length > 0 && shape[0] > 0 ? (double) n / shape[0] : n;
        double fanOut = shape.length > 1 && shape[1] > 0 ? (double) n / shape[1] : n;
        double norm = switch (f.getVarianceNorm()) {
            case FAN_OUT -> fanOut;
            case AVERAGE -> (fanIn + fanOut) / 2;
            default -> fanIn;
        };
        switch (f.getType()) {
            case "constant" -> java.util.Arrays.fill(v, f.getValue());
            case "uniform" -> uniform(v, r, f.getMin(), f.getMax());
            case "gaussian" -> {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (f.getMean() + f.getStd() * r.nextGaussian());
                }
                if (f.getSparse() >= 0 && shape.length > 0) {
                    double keep = (double) f.getSparse() / shape[0];
                    for (int i = 0; i < n; i++) {
                        if (r.nextDouble() >= keep) {
                            v[i] = 0;
                        }
                    }
                }
            }
            case "xavier" -> {
                double scale = Math.sqrt(3.0 / norm);
                uniform(v, r, -scale, scale);
            }
            case "msra" -> {
                double std = Math.sqrt(2.0 / norm);
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (std * r.nextGaussian());
                }
            }
            case "bilinear" -> bilinear(v, shape);
            case "positive_unitball" -> {
                int dim = (int) Math.max(1, fanIn);
                uniform(v, r, 0, 1);
                for (int i = 0; i + dim <= n; i += dim) {
                    double sum = 0;
                    for (int j = 0; j < dim; j++) {
                        sum += v[i + j];
                    }
                    for (int j = 0; j < dim; j++) {
                        v[i + j] = (float) (v[i + j] / sum);
                    }
                }
            }
            default -> throw new IllegalStateException("filler " + f.getType());
        }
        ByteBuffer b = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    private static void uniform(float[] v, SplittableRandom r, double lo, double hi) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
    }

    /** The upsampling kernel Caffe's bilinear filler makes for Deconvolution layers. */
    private static void bilinear(float[] v, long[] shape) {
        if (shape.length != 4) {
            return;
        }
        int kh = (int) shape[2];
        int kw = (int) shape[3];
        double f = Math.ceil(kw / 2.0);
        double c = (2 * f - 1 - f % 2) / (2 * f);
        for (int i = 0; i < v.length; i++) {
            int x = i % kw;
            int y = (i / kw) % kh;
            v[i] = (float) ((1 - Math.abs(x / f - c)) * (1 - Math.abs(y / f - c)));
        }
    }
}
