package graft.train;

import graft.error.UsageException;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Weight;
import java.util.List;
import java.util.Random;

/**
 * Seeded re-initialisation of a layer's parameters: He normal (std sqrt(2 / fan_in)) for a
 * kernel whose output goes through a Relu, Glorot uniform (limit sqrt(6 / (fan_in + fan_out)))
 * otherwise, biases 0; BatchNormalization back to scale 1, bias 0, mean 0, variance 1. The new
 * weights replace the old handles (the old bytes are not touched).
 */
public final class Init {
    private Init() {
    }

    public static void reinit(Graph g, String layer, long seed) {
        boolean found = false;
        Random r = new Random(seed ^ layer.hashCode());
        for (Node n : g.nodes()) {
            if (!n.layer().equals(layer) || n.op() == null) {
                continue;
            }
            found = true;
            boolean relu = g.consumers(n.output(0)).stream().anyMatch(c -> c.opType().equals("Relu"));
            List<graft.ir.OpSchema.WeightSlot> slots = n.op().weightSlots();
            for (graft.ir.OpSchema.WeightSlot s : slots) {
                Weight w = g.initializer(n.input(s.input()));
                if (w == null) {
                    continue;
                }
                long[] shape = w.shape();
                float[] v = new float[(int) w.elementCount()];
                String role = s.role();
                if (n.opType().equals("BatchNormalization")) {
                    java.util.Arrays.fill(v, role.equals("scale") || role.equals("var") ? 1f : 0f);
                } else if (role.equals("kernel")) {
                    long[] fans = fans(n, shape);
                    for (int i = 0; i < v.length; i++) {
                        v[i] = relu ? (float) (r.nextGaussian() * Math.sqrt(2.0 / fans[0]))
                                : (float) ((r.nextDouble() * 2 - 1) * Math.sqrt(6.0 / (fans[0] + fans[1])));
                    }
                }
                g.addInitializer(Weight.ofFloats(w.name(), shape, v));
            }
        }
        if (!found) {
            throw new UsageException("--reinit '" + layer + "': no such layer. 'graft inspect' lists them");
        }
        g.addProvenance("reinit " + layer + " seed " + seed);
    }

    /** fan_in, fan_out of a kernel in its canonical layout. */
    static long[] fans(Node n, long[] s) {
        if (n.opType().equals("Conv")) {
            long rf = 1;
            for (int i = 2; i < s.length; i++) {
                rf *= s[i];
            }
            return new long[] {s[1] * rf, s[0] * rf};
        }
        boolean transB = n.intAttr("transB", 0) != 0;
        return transB ? new long[] {s[1], s[0]} : new long[] {s[0], s[1]};
    }
}
