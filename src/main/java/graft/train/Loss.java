package graft.train;

import java.util.List;

/**
 * Classification losses over logits, each emitted with its gradient in closed form (the
 * softmax/sigmoid is fused into the loss, as every framework does for stability). Labels are
 * class ids, int64 of shape [N]. Both losses are means over the batch.
 */
public enum Loss {
    /** Softmax over axis 1, then the mean negative log-likelihood of the true class. */
    SOFTMAX_CROSS_ENTROPY,
    /**
     * A sigmoid per logit and binary cross-entropy: one logit per sample with labels 0/1, or K
     * logits with one-hot targets; the mean is over all N*K terms (PyTorch BCEWithLogitsLoss).
     */
    SIGMOID_CROSS_ENTROPY;

    /** The loss value (a scalar) and the gradient of the loss with respect to the logits. */
    public record Emitted(String loss, String dLogits) {
    }

    /** The activation a model ends with that this loss absorbs (stripped from the step graph). */
    public graft.ir.Op activation() {
        return this == SOFTMAX_CROSS_ENTROPY ? graft.ir.Op.SOFTMAX : graft.ir.Op.SIGMOID;
    }

    public Emitted emit(Emitter e, String logits, String labels, long classes) {
        return emit(e, logits, labels, classes, false);
    }

    /**
     * Terms per sample the mean is taken over: 1 for softmax, the logits per sample for sigmoid
     * (the mean is over all N*K terms).
     */
    public long termsPerSample(long classes) {
        return this == SOFTMAX_CROSS_ENTROPY ? 1 : classes;
    }

    /**
     * As {@link #emit(Emitter, String, String, long)}; with {@code sum} the loss is the sum over
     * the batch's terms and the gradient that of the sum (not divided by the count): what a
     * data-parallel step adds up across partitions before it divides once by the global count.
     */
    public Emitted emit(Emitter e, String logits, String labels, long classes, boolean sum) {
        String reduce = sum ? "ReduceSum" : "ReduceMean";
        String target;
        if (this == SIGMOID_CROSS_ENTROPY && classes == 1) {
            target = e.castFloat(e.reshape(labels, e.ints(-1, 1)));
        } else {
            long[] ids = new long[(int) classes];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i;
            }
            target = e.castFloat(e.op("Equal", e.reshape(labels, e.ints(-1, 1)), e.ints(ids)));
        }
        if (this == SOFTMAX_CROSS_ENTROPY) {
            String logp = e.op("LogSoftmax", List.of(logits), Emitter.attrs("axis", 1L));
            String nll = e.op("Neg", e.reduceSum(e.mul(target, logp), new long[] {1}, false));
            String loss = e.op(reduce, List.of(nll), Emitter.attrs("keepdims", 0L));
            String d = e.sub(e.op("Exp", logp), target);
            if (sum) {
                return new Emitted(loss, d);
            }
            String n = e.castFloat(e.op("Shape", List.of(logits), Emitter.attrs("start", 0L, "end", 1L)));
            return new Emitted(loss, e.div(d, n));
        }
        // max(z, 0) - z*y + log(1 + exp(-|z|)): the stable form of BCE on logits.
        String z = logits;
        String terms = e.add(e.sub(e.op("Relu", z), e.mul(z, target)),
                e.op("Log", e.add(e.scalar(1), e.op("Exp", e.op("Neg", e.op("Abs", z))))));
        String loss = e.op(reduce, List.of(terms), Emitter.attrs("keepdims", 0L));
        String d = e.sub(e.op("Sigmoid", z), target);
        if (sum) {
            return new Emitted(loss, d);
        }
        String count = e.castFloat(e.op("Size", z));
        return new Emitted(loss, e.div(d, count));
    }
}
