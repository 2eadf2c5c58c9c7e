package graft.train;

import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Appends standard ONNX nodes and small constants to a graph under construction, with fresh
 * value and node names. The gradient rules, losses and optimizers all emit through one
 * instance so names never collide. Not thread-safe.
 */
public final class Emitter {
    private final Graph g;
    private final DataType dtype;
    private final String prefix;
    private int counter;

    public Emitter(Graph g, DataType dtype, String prefix) {
        this.g = g;
        this.dtype = dtype;
        this.prefix = prefix;
    }

    public Graph graph() {
        return g;
    }

    /** The floating type every emitted constant and cast uses (float32, or float64 for checks). */
    public DataType dtype() {
        return dtype;
    }

    public String fresh(String hint) {
        return prefix + hint + "_" + (counter++);
    }

    /** Emits a one-output node and returns its output name. */
    public String op(String type, List<String> in, Map<String, Attr> attrs) {
        return ops(type, in, 1, attrs)[0];
    }

    public String op(String type, String... in) {
        return op(type, List.of(in), Map.of());
    }

    public String[] ops(String type, List<String> in, int outputs, Map<String, Attr> attrs) {
        String base = fresh(type);
        String[] out = new String[outputs];
        for (int i = 0; i < outputs; i++) {
            out[i] = base + (i == 0 ? "" : "_o" + i);
        }
        g.nodes().add(new Node(base, type, "", base, in, List.of(out), attrs, Map.of()));
        return out;
    }

    /** Appends an existing node unchanged (the forward pass copied into the step graph). */
    public void add(Node n) {
        g.nodes().add(n);
    }

    public String add(String a, String b) {
        return op("Add", a, b);
    }

    public String sub(String a, String b) {
        return op("Sub", a, b);
    }

    public String mul(String a, String b) {
        return op("Mul", a, b);
    }

    public String div(String a, String b) {
        return op("Div", a, b);
    }

    /** A scalar constant of the graph's floating type. */
    public String scalar(double v) {
        return tensor(new long[0], new double[] {v});
    }

    /** A constant of the graph's floating type. */
    public String tensor(long[] shape, double[] v) {
        String name = fresh("const");
        int size = dtype.size();
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * size).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            if (dtype == DataType.DOUBLE) {
                b.putDouble(x);
            } else {
                b.putFloat((float) x);
            }
        }
        b.flip();
        g.addInitializer(new Weight(name, dtype, shape, WeightData.of(b)));
        return name;
    }

    /** A 1-D int64 constant (axes, shapes, class ids). */
    public String ints(long... v) {
        String name = fresh("ints");
        g.addInitializer(Weight.ofLongs(name, new long[] {v.length}, v));
        return name;
    }

    /** A boolean scalar constant (Dropout's training_mode). */
    public String bool(boolean v) {
        String name = fresh("bool");
        ByteBuffer b = ByteBuffer.allocateDirect(1);
        b.put((byte) (v ? 1 : 0)).flip();
        g.addInitializer(new Weight(name, DataType.BOOL, new long[0], WeightData.of(b)));
        return name;
    }

    public String reduceSum(String x, long[] axes, boolean keep) {
        if (axes.length == 0) {
            return x;
        }
        return op("ReduceSum", List.of(x, ints(axes)), Map.of("keepdims", Attr.of(keep ? 1L : 0L)));
    }

    public String reshape(String x, String shape) {
        return op("Reshape", x, shape);
    }

    /** {@code dy} reshaped to the runtime shape of {@code like}. */
    public String reshapeLike(String dy, String like) {
        return reshape(dy, op("Shape", like));
    }

    public String transpose(String x, long... perm) {
        return op("Transpose", List.of(x), Map.of("perm", Attr.ints(perm)));
    }

    /** Cast of a boolean or integer tensor to the graph's floating type. */
    public String castFloat(String x) {
        return op("Cast", List.of(x), Map.of("to", Attr.of((long) dtype.code())));
    }

    public static Map<String, Attr> attrs(Object... kv) {
        Map<String, Attr> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            Attr a;
            if (v instanceof Attr at) {
                a = at;
            } else if (v instanceof long[] l) {
                a = Attr.ints(l);
            } else if (v instanceof Integer n) {
                a = Attr.of((long) n);
            } else if (v instanceof Long n) {
                a = Attr.of(n);
            } else if (v instanceof Float f) {
                a = Attr.of(f);
            } else if (v instanceof Double d) {
                a = Attr.of((float) (double) d);
            } else {
                a = Attr.of(String.valueOf(v));
            }
            m.put((String) kv[i], a);
        }
        return m;
    }
}
