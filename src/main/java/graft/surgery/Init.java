package graft.surgery;

import graft.ir.Shape;
import graft.ir.Weight;
import graft.ir.WeightData;
import graft.ir.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;

/**
 * How new weights start: {@code he} (normal, std sqrt(2/fan_in)), {@code glorot} (uniform,
 * limit sqrt(6/(fan_in+fan_out)), the Keras default), {@code gaussian:STD} (normal with that
 * std, the Caffe filler) or {@code zeros}. Deterministic: the same seed gives the same bytes
 * on every machine ({@link Random} is specified exactly). The bytes are made lazily, on first
 * use, by {@link WeightData#lazy}.
 */
public record Init(Kind kind, double std) {
    public enum Kind { HE, GLOROT, GAUSSIAN, ZEROS }

    public static final Init GLOROT = new Init(Kind.GLOROT, 0);
    public static final Init HE = new Init(Kind.HE, 0);
    public static final Init ZEROS = new Init(Kind.ZEROS, 0);

    /** Parses {@code he|glorot|gaussian:STD|zeros}; {@code null} when the text is none of them. */
    public static Init parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        switch (t) {
            case "he", "he_normal" -> {
                return HE;
            }
            case "glorot", "glorot_uniform", "xavier" -> {
                return GLOROT;
            }
            case "zeros", "zero" -> {
                return ZEROS;
            }
            default -> {
                if (t.startsWith("gaussian:")) {
                    try {
                        double s = Double.parseDouble(t.substring(9));
                        if (s > 0 && Double.isFinite(s)) {
                            return new Init(Kind.GAUSSIAN, s);
                        }
                    } catch (NumberFormatException e) {
                        return null;
                    }
                }
                return null;
            }
        }
    }

    /**
     * A float32 weight of {@code shape}. Fans: OIHW kernels (O, I, kh, kw) have fan_in I*kh*kw and
     * fan_out O*kh*kw; a (rows, cols) matrix is taken as (out, in), as Gemm with transB=1 holds it.
     */
    public Weight make(String name, long[] shape, long seed) {
        long n = Shape.elementCount(shape);
        long receptive = 1;
        for (int i = 2; i < shape.length; i++) {
            receptive *= shape[i];
        }
        double fanOut = shape.length >= 2 ? shape[0] * receptive : shape.length == 1 ? shape[0] : 1;
        double fanIn = shape.length >= 2 ? shape[1] * receptive : shape.length == 1 ? shape[0] : 1;
        Kind k = kind;
        double s = std;
        WeightData data = WeightData.lazy(n * 4, () -> {
            ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(n * 4)).order(ByteOrder.LITTLE_ENDIAN);
            Random r = new Random(seed);
            double limit = Math.sqrt(6.0 / (fanIn + fanOut));
            double he = Math.sqrt(2.0 / fanIn);
            for (long i = 0; i < n; i++) {
                double v = switch (k) {
                    case HE -> r.nextGaussian() * he;
                    case GLOROT -> (r.nextDouble() * 2 - 1) * limit;
                    case GAUSSIAN -> r.nextGaussian() * s;
                    case ZEROS -> 0;
                };
                b.putFloat((float) v);
            }
            b.flip();
            return b;
        });
        return new Weight(name, DataType.FLOAT, shape, data);
    }

    /** A seed for a weight that does not depend on JVM hash randomisation. */
    static long seed(long base, String weightName) {
        long h = 1125899906842597L;
        for (int i = 0; i < weightName.length(); i++) {
            h = 31 * h + weightName.charAt(i);
        }
        return base * 0x9E3779B97F4A7C15L ^ h;
    }

    @Override
    public String toString() {
        return kind == Kind.GAUSSIAN ? "gaussian:" + std : kind.name().toLowerCase(Locale.ROOT);
    }
}
