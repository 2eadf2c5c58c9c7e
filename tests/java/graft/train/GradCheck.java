package graft.train;

import static org.assertj.core.api.Assertions.assertThat;

import graft.exec.ReferenceExecutor;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.Tensor;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.runtime.Sessions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;

/**
 * Central finite differences against graft's backward pass, both run by ONNX Runtime. The
 * scalar is L = sum(Y * R) for a fixed random R, so dL/dY = R seeds the backward pass and
 * dL/dX_i is estimated as (L(X + h e_i) - L(X - h e_i)) / 2h, one element at a time.
 */
final class GradCheck {
    private final String op;
    private final Map<String, Attr> attrs;
    private final LinkedHashMap<String, long[]> inputs = new LinkedHashMap<>();
    private final LinkedHashMap<String, DoubleUnaryOperator> maps = new LinkedHashMap<>();
    private final List<Weight> constants = new ArrayList<>();
    private final List<Node> constantNodes = new ArrayList<>();
    private final List<String> order = new ArrayList<>();
    private final List<String> wrt = new ArrayList<>();
    private final java.util.Set<String> distinct = new java.util.HashSet<>();
    private DataType dtype = DataType.DOUBLE;
    private long seed = 7;
    private boolean reference;
    private boolean batchStatistics;
    private Graph fdForward;

    GradCheck(String op, Map<String, Attr> attrs) {
        this.op = op;
        this.attrs = attrs;
    }

    static GradCheck of(String op, Object... attrs) {
        return new GradCheck(op, Emitter.attrs(attrs));
    }

    /** A differentiated input with uniform values in [-1, 1). */
    GradCheck in(String name, long... shape) {
        return in(name, x -> x, shape);
    }

    /** A differentiated input with values mapped from uniform [-1, 1) (e.g. kept positive). */
    GradCheck in(String name, DoubleUnaryOperator map, long... shape) {
        inputs.put(name, shape);
        maps.put(name, map);
        order.add(name);
        wrt.add(name);
        return this;
    }

    /**
     * A differentiated input whose values are a shuffled sequence 0.05 apart, so that a
     * float32 step h = 1e-2 never changes which element a max picks.
     */
    GradCheck distinct(String name, long... shape) {
        distinct.add(name);
        return in(name, shape);
    }

    /** A fixed input (not differentiated), fed like the others. */
    GradCheck fixed(String name, DoubleUnaryOperator map, long... shape) {
        inputs.put(name, shape);
        maps.put(name, map);
        order.add(name);
        return this;
    }

    /** An int64 constant input (a shape, axes). */
    GradCheck ints(String name, long... v) {
        constants.add(Weight.ofLongs(name, new long[] {v.length}, v));
        order.add(name);
        return this;
    }

    /**
     * An int64 input made by a Constant node in the forward graph instead of an initializer, as
     * PyTorch's export gives Pad its pads.
     */
    GradCheck intsNode(String name, long... v) {
        constantNodes.add(new Node("const_" + name, "Constant", "", "layer", List.of(), List.of(name),
                Map.of("value", Attr.tensor(Weight.ofLongs(name, new long[] {v.length}, v))), Map.of()));
        order.add(name);
        return this;
    }

    /** An absent optional input. */
    GradCheck none() {
        order.add("");
        return this;
    }

    /**
     * BatchNormalization in training mode ({@code --bn train}): the forward pass on batch
     * statistics (BatchNormTrain) both for the finite differences and for the backward pass,
     * whose gradient then includes the statistics' dependence on x.
     */
    GradCheck batchStatistics() {
        batchStatistics = true;
        return this;
    }

    GradCheck float32() {
        dtype = DataType.FLOAT;
        return this;
    }

    /**
     * Runs forward and backward on graft's reference executor instead of ONNX Runtime, for
     * attributes ONNX Runtime's kernel refuses (LRN of even size). The executor stores float32,
     * so the float32 step and tolerance apply.
     */
    GradCheck onReferenceExecutor() {
        reference = true;
        return float32();
    }

    /**
     * Checks in float64, or in float32 where ONNX Runtime has no double kernel for the op, and
     * asserts the error against that type's tolerance. Returns the type used.
     */
    DataType check() {
        if (dtype == DataType.DOUBLE) {
            try {
                assertThat(run()).as("%s float64 gradient error", op).isLessThan(AutodiffGradientTest.F64);
                return DataType.DOUBLE;
            } catch (graft.error.GraftException ex) {
                if (!String.valueOf(ex.getMessage()).contains("NOT_IMPLEMENTED")) {
                    throw ex;
                }
                dtype = DataType.FLOAT;
            }
        }
        assertThat(run()).as("%s float32 gradient error", op).isLessThan(AutodiffGradientTest.F32);
        return DataType.FLOAT;
    }

    /** Runs the check and returns the largest error relative to the largest gradient. */
    double run() {
        Graph fwd = forward();
        ShapeInference.run(fwd);
        Graph bwd = new Graph("grad_" + op);
        bwd.inputs().addAll(fwd.inputs());
        constants.forEach(bwd::addInitializer);
        Emitter e = new Emitter(bwd, dtype, "g/");
        List<Node> nodes = Autodiff.prepare(fwd.nodes(), fwd, e, false);
        if (batchStatistics) {
            nodes = nodes.stream().map(BatchNormTrain::training).toList();
            long[] sx = inputs.get(order.get(0));
            for (Node n : nodes) {
                BatchNormTrain.forward(e, n, sx);
            }
            Graph bn = new Graph("fwd_train_" + op);
            bn.inputs().addAll(fwd.inputs());
            constants.forEach(bn::addInitializer);
            BatchNormTrain.forward(new Emitter(bn, dtype, "f/"), nodes.get(0), sx);
            bn.outputs().add(new Value("y", fwd.type("y")));
            fdForward = bn;
        } else {
            nodes.forEach(e::add);
        }
        long[] ys = fwd.type("y").shape().toArray();
        bwd.inputs().add(new Value("dy", new TensorType(dtype, Shape.of(ys))));
        Map<String, String> grads = Autodiff.backward(nodes, fwd, e, Map.of("y", "dy"), new LinkedHashSet<>(wrt));
        for (String w : wrt) {
            String out = "grad_" + w;
            e.add(new Node("out_" + w, "Identity", "", "", List.of(grads.get(w)), List.of(out), Map.of(), Map.of()));
            bwd.outputs().add(new Value(out, new TensorType(dtype, Shape.of(inputs.get(w)))));
        }
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, double[]> values = new LinkedHashMap<>();
        for (var en : inputs.entrySet()) {
            double[] v = new double[(int) Shape.elementCount(en.getValue())];
            for (int i = 0; i < v.length; i++) {
                v[i] = maps.get(en.getKey()).applyAsDouble(r.nextDouble(-1, 1));
            }
            if (distinct.contains(en.getKey())) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (i - v.length / 2) * 0.05;
                }
                for (int i = v.length - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    double t = v[i];
                    v[i] = v[j];
                    v[j] = t;
                }
            }
            values.put(en.getKey(), v);
        }
        double[] rr = new double[(int) Shape.elementCount(ys)];
        for (int i = 0; i < rr.length; i++) {
            rr[i] = r.nextDouble(-1, 1);
        }
        Map<String, double[]> analytic = new LinkedHashMap<>();
        try (Runner b = open(bwd)) {
            Map<String, Tensor> feeds = feeds(values);
            feeds.put("dy", tensor(ys, rr));
            Map<String, Tensor> out = b.run(feeds);
            for (String w : wrt) {
                analytic.put(w, doubles(out.get("grad_" + w)));
            }
        }
        double h = dtype == DataType.DOUBLE ? 1e-6 : 1e-2;
        double maxErr = 0;
        double maxGrad = 1e-12;
        try (Runner f = open(fdForward != null ? fdForward : fwd)) {
            for (String w : wrt) {
                double[] v = values.get(w);
                double[] a = analytic.get(w);
                for (int i = 0; i < v.length; i++) {
                    double keep = v[i];
                    v[i] = keep + h;
                    double lp = dot(f, values, rr);
                    v[i] = keep - h;
                    double lm = dot(f, values, rr);
                    v[i] = keep;
                    double num = (lp - lm) / (2 * h);
                    maxErr = Math.max(maxErr, Math.abs(num - a[i]));
                    maxGrad = Math.max(maxGrad, Math.abs(num));
                }
            }
        }
        double rel = maxErr / maxGrad;
        assertThat(maxGrad).as("gradient of %s is not all zero", op).isGreaterThan(1e-6);
        return rel;
    }

    private Graph forward() {
        Graph g = new Graph("fwd_" + op);
        for (var en : inputs.entrySet()) {
            g.inputs().add(new Value(en.getKey(), new TensorType(dtype, Shape.of(en.getValue()))));
        }
        constants.forEach(g::addInitializer);
        g.nodes().addAll(constantNodes);
        g.nodes().add(new Node("n", op, "", "layer", order, List.of("y"), attrs, Map.of()));
        g.outputs().add(new Value("y", null));
        return g;
    }

    /** A forward or backward graph ready to run on ONNX Runtime or on the reference executor. */
    private interface Runner extends AutoCloseable {
        Map<String, Tensor> run(Map<String, Tensor> feeds);

        @Override
        void close();
    }

    private Runner open(Graph g) {
        if (reference) {
            return new Runner() {
                public Map<String, Tensor> run(Map<String, Tensor> feeds) {
                    return ReferenceExecutor.run(g, feeds);
                }

                public void close() {
                }
            };
        }
        OrtRunner r = Sessions.open(g, Device.CPU);
        return new Runner() {
            public Map<String, Tensor> run(Map<String, Tensor> feeds) {
                return r.run(feeds);
            }

            public void close() {
                r.close();
            }
        };
    }

    private double dot(Runner f, Map<String, double[]> values, double[] rr) {
        double[] y = doubles(f.run(feeds(values)).get("y"));
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * rr[i];
        }
        return s;
    }

    private Map<String, Tensor> feeds(Map<String, double[]> values) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(k, tensor(inputs.get(k), v)));
        return m;
    }

    private Tensor tensor(long[] shape, double[] v) {
        ByteBuffer b = ByteBuffer.allocateDirect(v.length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            if (dtype == DataType.DOUBLE) {
                b.putDouble(x);
            } else {
                b.putFloat((float) x);
            }
        }
        b.flip();
        return new Tensor(dtype, shape, b);
    }

    static double[] doubles(Tensor t) {
        double[] r = new double[(int) t.count()];
        ByteBuffer b = t.data();
        for (int i = 0; i < r.length; i++) {
            r[i] = t.dtype() == DataType.DOUBLE ? b.getDouble(i * 8) : b.getFloat(i * 4);
        }
        return r;
    }
}
