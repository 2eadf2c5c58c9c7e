package graft.train;

import graft.error.UnsupportedModelException;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.LayerTraining;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.OpSchema;
import graft.ir.Shape;
import graft.ir.ShapeInference;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Builds the one standard-ONNX graph that performs a training step of a model: inputs are the
 * trainable parameters, the optimizer state, the batch ({@code x}, the model's input), its
 * {@code labels} (int64 [N]) and the learning rate {@code lr} (scalar); outputs are the updated
 * parameters and state, the {@code loss} and the {@code logits}. Frozen parameters stay
 * initializers inside the graph (the model's own weight handles: no copy). With
 * {@code evalOnly} the graph has no backward pass and no update: loss and logits only.
 *
 * <p>Which parameters train follows {@link Graph#training()}: a layer marked not trainable, or
 * a parameter whose lr_mult is 0, is frozen. BatchNormalization's running statistics never
 * train. A final Softmax (or Sigmoid, with its loss) is absorbed into the loss.
 */
public final class TrainingStep {
    public static final String LABELS = "labels";
    public static final String LR = "lr";
    public static final String LOSS = "loss";
    public static final String LOGITS = "logits";
    public static final String STEP = "optimizer/step";

    /** One tensor carried from step to step: fed as {@code input}, returned as {@code output}. */
    public record Carried(String input, String output, long[] shape, Weight initial) {
    }

    /** The built graph and how to drive it. */
    public record Built(Graph graph, String input, List<String> params, List<Carried> carried, long classes,
                        List<Autodiff.Mask> masks, List<String> statistics) {
        public Built(Graph graph, String input, List<String> params, List<Carried> carried, long classes) {
            this(graph, input, params, carried, classes, List.of(), List.of());
        }

        public Built(Graph graph, String input, List<String> params, List<Carried> carried, long classes, List<Autodiff.Mask> masks) {
            this(graph, input, params, carried, classes, masks, List.of());
        }
    }

    /** BatchNormalization in the step: FROZEN keeps the inference statistics (Keras's fine-tuning advice), TRAIN uses the batch's. */
    public enum BatchNormMode { FROZEN, TRAIN }

    /**
     * Options: the loss, the optimizer, whether Dropout draws its mask, and the BatchNormalization
     * mode. With {@link BatchNormMode#TRAIN} every BatchNormalization of a trainable layer runs on
     * batch statistics and updates its running mean and variance ({@link BatchNormTrain}); those of
     * a frozen layer keep inference mode, as Keras runs a layer with {@code trainable=False}.
     */
    public record Spec(Loss loss, Optimizer optimizer, boolean dropout, boolean evalOnly, BatchNormMode batchNorm, boolean gradientsOnly) {
        public Spec(Loss loss, Optimizer optimizer, boolean dropout, boolean evalOnly) {
            this(loss, optimizer, dropout, evalOnly, BatchNormMode.FROZEN);
        }

        public Spec(Loss loss, Optimizer optimizer, boolean dropout, boolean evalOnly, BatchNormMode batchNorm) {
            this(loss, optimizer, dropout, evalOnly, batchNorm, false);
        }

        /**
         * The gradient-only step of data-parallel training ({@code finetune --spark}): forward, the
         * loss as a SUM over the batch ({@link #LOSS}), {@link #LOGITS}, and each trainable
         * parameter's gradient of that sum as output {@code p + GRAD}; no learning rate, no
         * optimizer, no update. Partitions add these up and the driver divides once by the global
         * count and applies {@link #update}.
         */
        public static Spec gradients(Loss loss, boolean dropout) {
            return new Spec(loss, null, dropout, false, BatchNormMode.FROZEN, true);
        }
    }

    /** Suffix of a parameter's gradient: an output of the gradient-only step, an input of {@link #update}. */
    public static final String GRAD = "/grad";

    private TrainingStep() {
    }

    /** Parameters that train: weight slots of catalogue nodes, unless frozen by the layer's training state. */
    public static List<String> trainableParams(Graph g) {
        LinkedHashSet<String> r = new LinkedHashSet<>();
        LinkedHashSet<String> frozen = new LinkedHashSet<>();
        for (Node n : g.nodes()) {
            for (Slot s : slots(g, n)) {
                if (s.lrMult == 0) {
                    frozen.add(s.weight);
                } else {
                    r.add(s.weight);
                }
            }
        }
        r.removeAll(frozen);
        return new ArrayList<>(r);
    }

    record Slot(String weight, double lrMult, double decayMult) {
    }

    static List<Slot> slots(Graph g, Node n) {
        List<Slot> r = new ArrayList<>();
        Op op = n.op();
        if (op == null) {
            return r;
        }
        LayerTraining lt = g.trainingOf(n.layer());
        int k = 0;
        for (OpSchema.WeightSlot ws : op.weightSlots()) {
            String in = n.input(ws.input());
            Weight w = in.isEmpty() ? null : g.initializer(in);
            boolean stat = op == Op.BATCH_NORMALIZATION && ws.input() >= 3;
            if (w != null && w.dtype() == DataType.FLOAT && !stat) {
                r.add(slot(in, lt, k));
            }
            k++;
        }
        // MatMul has no weight slot in the catalogue (either operand may be data), but a float
        // initializer as its second operand is a layer's kernel (tf2onnx-style Dense, Keras's
        // LocallyConnected2D), and a float initializer added to that product is its bias:
        // parameters 0 and 1 of the layer, for lr_mult/decay_mult. (So a constant matrix that
        // is not a learned weight trains too unless its layer is frozen.)
        String kernel = op == Op.MAT_MUL ? matMulKernel(g, n) : op == Op.ADD ? matMulBias(g, n) : null;
        if (kernel != null) {
            r.add(slot(kernel, lt, op == Op.MAT_MUL ? 0 : 1));
            return r;
        }
        // a per-channel factor or offset (Caffe's Scale and Bias layers: gamma and beta) is a
        // parameter, as inspect counts it: parameter k of its layer in node order
        String affine = op == Op.MUL || op == Op.ADD ? elementwiseParam(g, n) : null;
        if (affine != null) {
            r.add(slot(affine, lt, layerParamIndex(g, n.layer(), affine)));
        }
        return r;
    }

    /** The one float initializer of rank 1 or more that Mul/Add {@code n} applies to data, unless a made-up constant. */
    private static String elementwiseParam(Graph g, Node n) {
        int w = loneInitializer(g, n);
        if (w < 0) {
            return null;
        }
        Weight b = g.initializer(n.input(w));
        return b.dtype() == DataType.FLOAT && b.shape().length > 0 && !graft.ir.LayerTable.constants(g).contains(n.input(w))
                ? n.input(w) : null;
    }

    /** Which of binary node {@code n}'s two operands is an initializer when exactly one is (1 or 0), else -1. */
    private static int loneInitializer(Graph g, Node n) {
        int w = g.initializer(n.input(1)) != null ? 1 : g.initializer(n.input(0)) != null ? 0 : -1;
        return w < 0 || g.initializer(n.input(1 - w)) != null ? -1 : w;
    }

    /** The position of {@code weight} among the float initializers the nodes of {@code layer} take, in node order. */
    private static int layerParamIndex(Graph g, String layer, String weight) {
        java.util.LinkedHashSet<String> seen = new java.util.LinkedHashSet<>();
        for (Node m : g.nodes()) {
            if (!m.layer().equals(layer)) {
                continue;
            }
            for (String in : m.inputs()) {
                Weight x = in.isEmpty() ? null : g.initializer(in);
                if (x != null && x.dtype() == DataType.FLOAT && x.shape().length > 0) {
                    if (in.equals(weight)) {
                        return seen.size();
                    }
                    seen.add(in);
                }
            }
        }
        return seen.size();
    }

    /** Parameter {@code k} of its layer: the layer's k-th lr_mult/decay_mult (1 when absent; lr 0 when frozen). */
    private static Slot slot(String weight, LayerTraining lt, int k) {
        double lr = lt.trainable() ? (k < lt.lrMult().size() ? lt.lrMult().get(k) : 1.0) : 0.0;
        double dm = k < lt.decayMult().size() ? lt.decayMult().get(k) : 1.0;
        return new Slot(weight, lr, dm);
    }

    /** The float initializer of rank 2 or more that is MatMul {@code n}'s second operand, else null. */
    private static String matMulKernel(Graph g, Node n) {
        Weight w = g.initializer(n.input(1));
        return w != null && w.dtype() == DataType.FLOAT && w.shape().length >= 2 && g.initializer(n.input(0)) == null ? n.input(1) : null;
    }

    /**
     * The float initializer (rank 1 or more) that Add {@code n} adds to a trained MatMul's
     * product: directly (a plain ONNX file's Dense, where each node is a layer of its own), or
     * through Reshape/Transpose/Flatten nodes of the Add's own layer that feed nothing else
     * (LocallyConnected2D); else null.
     */
    private static String matMulBias(Graph g, Node n) {
        int w = loneInitializer(g, n);
        if (w < 0) {
            return null;
        }
        Weight b = g.initializer(n.input(w));
        if (b.dtype() != DataType.FLOAT || b.shape().length == 0) {
            return null;
        }
        Node p = g.producer(n.input(1 - w));
        while (p != null && p.layer().equals(n.layer()) && (p.op() == Op.RESHAPE || p.op() == Op.TRANSPOSE || p.op() == Op.FLATTEN)
                && g.consumers(p.output(0)).size() == 1) {
            p = g.producer(p.input(0));
        }
        return p != null && p.op() == Op.MAT_MUL && g.consumers(p.output(0)).size() == 1 && matMulKernel(g, p) != null ? n.input(w) : null;
    }

    public static Built build(Graph model, Spec spec) {
        if (model.inputs().size() != 1 || model.outputs().size() != 1) {
            throw new UnsupportedModelException("model '" + model.name() + "' (training step): has " + model.inputs().size()
                    + " inputs and " + model.outputs().size() + " outputs; fine-tuning needs one of each. Cut the model first");
        }
        ShapeInference.run(model);
        Value in = model.inputs().get(0);
        List<Node> fwd = new ArrayList<>(model.nodes());
        String logits = model.outputs().get(0).name();
        Node last = fwd.get(fwd.size() - 1);
        if (last.output(0).equals(logits) && last.op() == spec.loss().activation()) {
            fwd.remove(fwd.size() - 1);
            logits = last.input(0);
        }
        TensorType lt = model.type(logits);
        if (lt == null || lt.shape() == null || lt.shape().rank() != 2 || !lt.shape().dim(1).isFixed()) {
            throw new UnsupportedModelException("model '" + model.name() + "' (training step): its output '" + logits
                    + "' is " + lt + ", not [N, classes] logits. Attach a classification head");
        }
        long classes = lt.shape().dim(1).value();
        for (Node n : model.nodes()) {
            for (String o : n.outputs()) {
                if (o.equals(LOSS) || o.equals(LABELS) || o.equals(LR) || (o.equals(LOGITS) && !o.equals(logits))) {
                    throw new UnsupportedModelException("value '" + o + "' (" + n.opType() + " '" + n.name() + "'): the name is "
                            + "reserved for the training step. Rename it");
                }
            }
        }

        Graph g = new Graph(model.name() + (spec.evalOnly() ? "_eval" : "_train_step"));
        g.opsets().put("", 17L);
        Emitter e = new Emitter(g, DataType.FLOAT, "step/");
        Map<String, Slot> slotOf = new LinkedHashMap<>();
        for (Node n : fwd) {
            for (Slot s : slots(model, n)) {
                slotOf.putIfAbsent(s.weight, s);
            }
        }
        List<String> params = trainableParams(model);
        params.retainAll(slotOf.keySet());
        g.inputs().add(new Value(in.name(), in.type() != null ? in.type() : model.type(in.name())));
        g.inputs().add(new Value(LABELS, new TensorType(DataType.INT64, Shape.of(graft.ir.Dim.sym("N")))));
        List<Carried> carried = new ArrayList<>();
        for (String p : params) {
            Weight w = model.initializer(p);
            g.inputs().add(new Value(p, new TensorType(DataType.FLOAT, Shape.of(w.shape()))));
            carried.add(new Carried(p, spec.evalOnly() ? null : p + "/next", w.shape(), w));
        }
        // --bn train: the BatchNormalizations of trainable layers, their running statistics carried from step to step
        java.util.Set<String> trainBn = new java.util.HashSet<>();
        List<String> statistics = new ArrayList<>();
        if (spec.batchNorm() == BatchNormMode.TRAIN) {
            for (Node n : fwd) {
                if (n.op() == Op.BATCH_NORMALIZATION && model.trainingOf(n.layer()).trainable()
                        && model.initializer(n.input(3)) != null && model.initializer(n.input(4)) != null) {
                    trainBn.add(n.name());
                    for (String st : BatchNormTrain.statistics(n)) {
                        if (!statistics.contains(st)) {
                            statistics.add(st);
                        }
                    }
                }
            }
            for (String st : statistics) {
                Weight w = model.initializer(st);
                g.inputs().add(new Value(st, new TensorType(DataType.FLOAT, Shape.of(w.shape()))));
                carried.add(new Carried(st, spec.evalOnly() ? null : st + "/next", w.shape(), w));
            }
        }
        for (Weight w : model.initializers().values()) {
            if (!params.contains(w.name()) && !statistics.contains(w.name())) {
                g.addInitializer(w);
            }
        }
        // Dropout masks are inputs of the step, drawn by the caller from (seed, epoch, step): reproducible, also across --resume
        List<Autodiff.Mask> masks = new ArrayList<>();
        List<Node> nodes = Autodiff.prepare(fwd, model, e, spec.dropout() && !spec.evalOnly(), masks);
        for (Autodiff.Mask m : masks) {
            graft.ir.Dim[] d = new graft.ir.Dim[m.sampleShape().length + 1];
            d[0] = graft.ir.Dim.sym("N");
            for (int i = 0; i < m.sampleShape().length; i++) {
                d[i + 1] = graft.ir.Dim.of(m.sampleShape()[i]);
            }
            g.inputs().add(new Value(m.input(), new TensorType(DataType.FLOAT, Shape.of(d))));
        }
        if (!spec.evalOnly() && !trainBn.isEmpty()) {
            nodes = new ArrayList<>(nodes);
            nodes.replaceAll(n -> trainBn.contains(n.name()) ? BatchNormTrain.training(n) : n);
        }
        List<String[]> statOutputs = new ArrayList<>();
        Winograd wino = new Winograd(e);
        for (Node n : nodes) {
            if (BatchNormTrain.marked(n)) {
                String[] next = BatchNormTrain.forward(e, n, Winograd.shapeOf(model, n.input(0)));
                statOutputs.add(new String[] {next[0], n.input(3) + "/next"});
                statOutputs.add(new String[] {next[1], n.input(4) + "/next"});
                continue;
            }
            long[] sx = Winograd.shapeOf(model, n.input(0));
            long[] sw = n.inputs().size() > 1 ? Winograd.shapeOf(model, n.input(1)) : null;
            if (!spec.evalOnly() && Winograd.enabled() && params.contains(n.inputs().size() > 1 ? n.input(1) : "")
                    && Winograd.applies(n, sx, sw)) {
                wino.forward(n, sx, sw);
            } else {
                e.add(n);
            }
        }
        Loss.Emitted loss = spec.loss().emit(e, logits, LABELS, classes, spec.gradientsOnly());
        identity(e, loss.loss(), LOSS);
        if (!logits.equals(LOGITS)) {
            identity(e, logits, LOGITS);
        }
        g.outputs().add(new Value(LOSS, new TensorType(DataType.FLOAT, Shape.of(new long[0]))));
        g.outputs().add(new Value(LOGITS, new TensorType(DataType.FLOAT, Shape.of(graft.ir.Dim.sym("N"), graft.ir.Dim.of(classes)))));
        if (spec.evalOnly()) {
            // the evaluation reads the running statistics the training step carries (fed by name, like the parameters)
            List<String> fed = new ArrayList<>(params);
            fed.addAll(statistics);
            return new Built(g, in.name(), fed, carried, classes, List.of(), statistics);
        }
        Map<String, String> grads = Autodiff.backward(nodes, model, e, Map.of(logits, loss.dLogits()), new LinkedHashSet<>(params));
        if (spec.gradientsOnly()) {
            if (!statOutputs.isEmpty()) {
                throw new UnsupportedModelException("model '" + model.name() + "' (gradient-only step): --bn train needs the whole "
                        + "batch's statistics in one place. Use --bn frozen");
            }
            List<String[]> renames = new ArrayList<>();
            for (String p : params) {
                renames.add(new String[] {grads.get(p), p + GRAD});
                g.outputs().add(new Value(p + GRAD, new TensorType(DataType.FLOAT, Shape.of(model.initializer(p).shape()))));
            }
            nameOutputs(g, e, renames);
            return new Built(g, in.name(), params, List.of(), classes, masks, statistics);
        }
        g.inputs().add(new Value(LR, new TensorType(DataType.FLOAT, Shape.of(new long[0]))));
        List<String[]> renames = new ArrayList<>();
        emitUpdate(g, e, model, params, slotOf, grads, spec.optimizer(), carried, renames);
        for (String[] so : statOutputs) {
            Weight w = model.initializer(so[1].substring(0, so[1].length() - "/next".length()));
            renames.add(so);
            g.outputs().add(new Value(so[1], new TensorType(DataType.FLOAT, Shape.of(w.shape()))));
        }
        nameOutputs(g, e, renames);
        return new Built(g, in.name(), params, carried, classes, masks, statistics);
    }

    /**
     * The optimizer alone, as the driver of data-parallel training runs it: inputs are the
     * trainable parameters of {@code model}, the optimizer state, each parameter's MEAN gradient
     * over the global batch ({@code p + GRAD}) and {@link #LR}; outputs the updated parameters
     * and state, the same nodes {@link #build} emits after its backward pass
     * ({@link Optimizer#update}, weight decay and lr_mult included). {@link Built#input} is null.
     */
    public static Built update(Graph model, Optimizer opt) {
        ShapeInference.run(model);
        Graph g = new Graph(model.name() + "_update");
        g.opsets().put("", 17L);
        Emitter e = new Emitter(g, DataType.FLOAT, "step/");
        Map<String, Slot> slotOf = new LinkedHashMap<>();
        for (Node n : model.nodes()) {
            for (Slot s : slots(model, n)) {
                slotOf.putIfAbsent(s.weight, s);
            }
        }
        List<String> params = trainableParams(model);
        params.retainAll(slotOf.keySet());
        List<Carried> carried = new ArrayList<>();
        Map<String, String> grads = new LinkedHashMap<>();
        for (String p : params) {
            Weight w = model.initializer(p);
            g.inputs().add(new Value(p, new TensorType(DataType.FLOAT, Shape.of(w.shape()))));
            carried.add(new Carried(p, p + "/next", w.shape(), w));
        }
        for (String p : params) {
            g.inputs().add(new Value(p + GRAD, new TensorType(DataType.FLOAT, Shape.of(model.initializer(p).shape()))));
            grads.put(p, p + GRAD);
        }
        g.inputs().add(new Value(LR, new TensorType(DataType.FLOAT, Shape.of(new long[0]))));
        List<String[]> renames = new ArrayList<>();
        emitUpdate(g, e, model, params, slotOf, grads, opt, carried, renames);
        nameOutputs(g, e, renames);
        return new Built(g, null, params, carried, 0);
    }

    /** The optimizer's nodes after the gradients {@code grads}: one update per parameter, its state carried. */
    private static void emitUpdate(Graph g, Emitter e, Graph model, List<String> params, Map<String, Slot> slotOf, Map<String, String> grads,
                                   Optimizer opt, List<Carried> carried, List<String[]> renames) {
        String step = null;
        if (opt.countsSteps()) {
            step = STEP;
            g.inputs().add(new Value(STEP, new TensorType(DataType.FLOAT, Shape.of(new long[0]))));
            carried.add(new Carried(STEP, STEP + "/next", new long[0], Weight.ofFloats(STEP, new long[0], new float[] {0})));
        }
        Optimizer.Shared shared = opt.shared(e, LR, step);
        if (step != null) {
            identity(e, shared.stepNext(), STEP + "/next");
            g.outputs().add(new Value(STEP + "/next", new TensorType(DataType.FLOAT, Shape.of(new long[0]))));
        }
        for (String p : params) {
            Weight w = model.initializer(p);
            TensorType pt = new TensorType(DataType.FLOAT, Shape.of(w.shape()));
            Map<String, String> state = new LinkedHashMap<>();
            for (String s : opt.slots()) {
                String name = p + "/" + s;
                state.put(s, name);
                g.inputs().add(new Value(name, pt));
                carried.add(new Carried(name, name + "/next", w.shape(), null));
            }
            Slot sl = slotOf.get(p);
            Map<String, String> upd = opt.update(e, shared, p, grads.get(p), state, sl.lrMult, sl.decayMult);
            for (var u : upd.entrySet()) {
                String out = u.getKey().isEmpty() ? p + "/next" : p + "/" + u.getKey() + "/next";
                renames.add(new String[] {u.getValue(), out});
                g.outputs().add(new Value(out, pt));
            }
        }
    }

    /**
     * Gives each updated parameter and state tensor its output name at the node that computes
     * it: an Identity per output made ONNX Runtime copy every parameter and momentum buffer once
     * more per step (about a tenth of a VGG block5 step). Values that are not computed by a node
     * of the step, or that feed two outputs, keep an Identity.
     */
    private static void nameOutputs(Graph g, Emitter e, List<String[]> renames) {
        java.util.Set<String> produced = new java.util.HashSet<>();
        for (Node n : g.nodes()) {
            produced.addAll(n.outputs());
        }
        Map<String, String> direct = new LinkedHashMap<>();
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (String[] r : renames) {
            if (produced.contains(r[0]) && taken.add(r[0])) {
                direct.put(r[0], r[1]);
            } else {
                identity(e, direct.getOrDefault(r[0], r[0]), r[1]);
            }
        }
        var it = g.nodes().listIterator();
        while (it.hasNext()) {
            Node n = it.next();
            List<String> ins = n.inputs().stream().map(v -> direct.getOrDefault(v, v)).toList();
            List<String> outs = n.outputs().stream().map(v -> direct.getOrDefault(v, v)).toList();
            if (!ins.equals(n.inputs()) || !outs.equals(n.outputs())) {
                it.set(n.withInputs(ins).withOutputs(outs));
            }
        }
    }

    private static void identity(Emitter e, String from, String to) {
        e.add(new Node(e.fresh("out"), "Identity", "", "", List.of(from), List.of(to), Map.of(), Map.of()));
    }
}
