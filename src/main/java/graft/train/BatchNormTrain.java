package graft.train;

import graft.ir.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Training-mode BatchNormalization ({@code finetune --bn train}), as PyTorch's {@code train()}
 * mode computes it: the batch's mean and biased variance over every axis but the channel axis
 * normalise the forward pass, gradients flow through both, and the running statistics move
 * towards the batch's with the node's ONNX {@code momentum} m: {@code running = running * m +
 * batch * (1 - m)} (Keras momentum 0.99 is ONNX's 0.99 and PyTorch's 0.01). The running
 * variance takes the unbiased batch variance (times M / (M - 1), M the values per channel), as
 * PyTorch does; Keras 3 and the ONNX operator take the biased one. PyTorch is the oracle graft's
 * step is checked against (one-step parity, TorchBatchNormStepTest), hence its choice.
 *
 * <p>The forward pass leaves x-hat and 1 / sqrt(var + eps) under names derived from the node's
 * output, which {@link #backward} reads.
 */
final class BatchNormTrain {
    private BatchNormTrain() {
    }

    static String xhat(Node n) {
        return n.output(0) + "__bn_xhat";
    }

    static String inv(Node n) {
        return n.output(0) + "__bn_inv";
    }

    static long[] axes(long[] sx) {
        long[] ax = new long[sx.length - 1];
        for (int i = 0, k = 0; i < sx.length; i++) {
            if (i != 1) {
                ax[k++] = i;
            }
        }
        return ax;
    }

    /** The mean over every axis but the channel's, kept as (1, C, 1, ...). */
    private static String mean(Emitter e, String v, long[] ax) {
        return e.op("ReduceMean", List.of(v), Map.of("axes", graft.ir.Attr.ints(ax), "keepdims", graft.ir.Attr.of(1L)));
    }

    /** M / (M - 1) for M the values per channel, computed at run time (the batch size is free). */
    private static String besselFactor(Emitter e, String x, long channels) {
        String m = e.div(e.castFloat(e.op("Size", x)), e.scalar(channels));
        return e.div(m, e.sub(m, e.scalar(1)));
    }

    private static String perChannel(Emitter e, long[] sx) {
        long[] s = new long[sx.length];
        Arrays.fill(s, 1);
        s[1] = -1;
        return e.ints(s);
    }

    /**
     * Emits the forward pass of {@code n} with batch statistics, its output under the node's own
     * output name; returns the running mean and variance after this step (rank 1, [C]).
     */
    static String[] forward(Emitter e, Node n, long[] sx) {
        long[] ax = axes(sx);
        String x = n.input(0);
        String mean = mean(e, x, ax);
        String xc = e.sub(x, mean);
        String var = mean(e, e.mul(xc, xc), ax);
        String inv = inv(n);
        e.add(new Node(e.fresh("bn_inv"), "Reciprocal", "", n.layer(),
                List.of(e.op("Sqrt", e.add(var, e.scalar(n.floatAttr("epsilon"))))), List.of(inv), Map.of(), Map.of()));
        String xhat = xhat(n);
        e.add(new Node(e.fresh("bn_xhat"), "Mul", "", n.layer(), List.of(xc, inv), List.of(xhat), Map.of(), Map.of()));
        String pc = perChannel(e, sx);
        String scaled = e.mul(xhat, e.reshape(n.input(1), pc));
        e.add(new Node(e.fresh("bn_y"), "Add", "", n.layer(), List.of(scaled, e.reshape(n.input(2), pc)), List.of(n.output(0)), Map.of(),
                Map.of()));
        double mom = n.floatAttr("momentum");
        String c = e.ints(-1);
        String meanC = e.reshape(mean, c);
        String unbiased = e.reshape(e.mul(var, besselFactor(e, x, sx[1])), c);
        String nextMean = e.add(e.mul(n.input(3), e.scalar(mom)), e.mul(meanC, e.scalar(1 - mom)));
        String nextVar = e.add(e.mul(n.input(4), e.scalar(mom)), e.mul(unbiased, e.scalar(1 - mom)));
        return new String[] {nextMean, nextVar};
    }

    /**
     * dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with dxhat = dy * gamma (the
     * batch statistics depend on x); dgamma = sum(dy * xhat), dbeta = sum(dy).
     */
    static void backward(Emitter e, Node n, String dy, boolean[] want, String[] dx, long[] sx) {
        long[] ax = axes(sx);
        String xhat = xhat(n);
        if (want[0]) {
            String dxhat = e.mul(dy, e.reshape(n.input(1), perChannel(e, sx)));
            String meanD = mean(e, dxhat, ax);
            String meanDx = mean(e, e.mul(dxhat, xhat), ax);
            dx[0] = e.mul(inv(n), e.sub(e.sub(dxhat, meanD), e.mul(xhat, meanDx)));
        }
        if (want[1]) {
            dx[1] = e.reduceSum(e.mul(dy, xhat), ax, false);
        }
        if (want[2]) {
            dx[2] = e.reduceSum(dy, ax, false);
        }
    }

    private static final String MARK = "graft.bn_train";

    /** The node marked for the step's training-mode form (a mark inside the step builder, never written to a file). */
    static Node training(Node n) {
        Map<String, byte[]> x = new java.util.LinkedHashMap<>(n.extras());
        x.put(MARK, new byte[] {1});
        return n.withExtras(x);
    }

    static boolean marked(Node n) {
        return n.extras().containsKey(MARK);
    }

    static List<String> statistics(Node n) {
        return new ArrayList<>(List.of(n.input(3), n.input(4)));
    }
}
