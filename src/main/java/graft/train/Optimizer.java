package graft.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer as ONNX update nodes inside the training step. Formulations are PyTorch's
 * (torch.optim, 1.13), so that one step can be checked against it:
 * <ul>
 * <li>SGD: {@code g += wd*p; v = mu*v + g; p -= lr*(nesterov ? g + mu*v : v)}. Caffe writes
 * {@code v = mu*v + lr*g; p -= v}, which is the same while lr is constant; Keras's
 * {@code decay} is a schedule ({@link Schedule#keras}).</li>
 * <li>RMSprop: {@code s = rho*s + (1-rho)*g^2; p -= lr*g/(sqrt(s) + eps)}; with
 * {@code epsInsideSqrt} it is {@code lr*g/sqrt(s + eps)} (TensorFlow 1 / Keras 1).</li>
 * <li>Adam: {@code m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= (lr/(1-b1^t)) *
 * m/(sqrt(v)/sqrt(1-b2^t) + eps)}, the step count t kept as state in the graph.</li>
 * </ul>
 * Weight decay is L2 added to the gradient, scaled per parameter by Caffe's decay_mult; the
 * learning rate is scaled by lr_mult.
 */
public record Optimizer(Kind kind, double momentum, boolean nesterov, double rho, double beta1, double beta2, double eps,
                        boolean epsInsideSqrt, double weightDecay) {
    public enum Kind { SGD, RMSPROP, ADAM }

    public static Optimizer sgd(double momentum, boolean nesterov, double weightDecay) {
        return new Optimizer(Kind.SGD, momentum, nesterov, 0, 0, 0, 0, false, weightDecay);
    }

    public static Optimizer rmsprop(double rho, double eps, double weightDecay) {
        return new Optimizer(Kind.RMSPROP, 0, false, rho, 0, 0, eps, false, weightDecay);
    }

    public static Optimizer adam(double beta1, double beta2, double eps, double weightDecay) {
        return new Optimizer(Kind.ADAM, 0, false, 0, beta1, beta2, eps, false, weightDecay);
    }

    /** What a user would call it: "sgd momentum 0.9 nesterov weight_decay 0.0005". */
    public String describe() {
        StringBuilder b = new StringBuilder(kind.name().toLowerCase(java.util.Locale.ROOT));
        switch (kind) {
            case SGD -> b.append(" momentum ").append(g(momentum)).append(nesterov ? " nesterov" : "");
            case RMSPROP -> b.append(" rho ").append(g(rho)).append(" eps ").append(g(eps)).append(epsInsideSqrt ? " eps_inside_sqrt" : "");
            case ADAM -> b.append(" beta1 ").append(g(beta1)).append(" beta2 ").append(g(beta2)).append(" eps ").append(g(eps));
            default -> throw new IllegalStateException(kind.toString());
        }
        return b.append(" weight_decay ").append(g(weightDecay)).toString();
    }

    private static String g(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** Names of the per-parameter state slots (all shaped like the parameter, starting at 0). */
    public String[] slots() {
        return switch (kind) {
            case SGD -> momentum == 0 ? new String[0] : new String[] {"momentum"};
            case RMSPROP -> new String[] {"square_avg"};
            case ADAM -> new String[] {"exp_avg", "exp_avg_sq"};
        };
    }

    /** True when the optimizer keeps a global scalar step count (Adam's bias correction). */
    public boolean countsSteps() {
        return kind == Kind.ADAM;
    }

    /** Values computed once per step and shared by every parameter's update. */
    public record Shared(String lr, String stepNext, String bc1, String bc2Sqrt) {
    }

    public Shared shared(Emitter e, String lr, String step) {
        if (!countsSteps()) {
            return new Shared(lr, null, null, null);
        }
        String t = e.add(step, e.scalar(1));
        String bc1 = e.sub(e.scalar(1), e.op("Pow", e.scalar(beta1), t));
        String bc2 = e.op("Sqrt", e.sub(e.scalar(1), e.op("Pow", e.scalar(beta2), t)));
        return new Shared(lr, t, bc1, bc2);
    }

    /**
     * Emits the update of one parameter. {@code state} maps slot names to their current values;
     * returns the new parameter under key "" and each slot's new value under its name.
     */
    public Map<String, String> update(Emitter e, Shared s, String p, String g, Map<String, String> state, double lrMult,
                                      double decayMult) {
        Map<String, String> out = new LinkedHashMap<>();
        double wd = weightDecay * decayMult;
        if (wd != 0) {
            g = e.add(g, e.mul(p, e.scalar(wd)));
        }
        String lr = lrMult == 1 ? s.lr() : e.mul(s.lr(), e.scalar(lrMult));
        switch (kind) {
            case SGD -> {
                String d = g;
                if (momentum != 0) {
                    String v = e.add(e.mul(state.get("momentum"), e.scalar(momentum)), g);
                    out.put("momentum", v);
                    d = nesterov ? e.add(g, e.mul(v, e.scalar(momentum))) : v;
                }
                out.put("", e.sub(p, e.mul(d, lr)));
            }
            case RMSPROP -> {
                String sq = e.add(e.mul(state.get("square_avg"), e.scalar(rho)), e.mul(e.mul(g, g), e.scalar(1 - rho)));
                out.put("square_avg", sq);
                String denom = epsInsideSqrt ? e.op("Sqrt", e.add(sq, e.scalar(eps))) : e.add(e.op("Sqrt", sq), e.scalar(eps));
                out.put("", e.sub(p, e.mul(e.div(g, denom), lr)));
            }
            case ADAM -> {
                String m = e.add(e.mul(state.get("exp_avg"), e.scalar(beta1)), e.mul(g, e.scalar(1 - beta1)));
                String v = e.add(e.mul(state.get("exp_avg_sq"), e.scalar(beta2)), e.mul(e.mul(g, g), e.scalar(1 - beta2)));
                out.put("exp_avg", m);
                out.put("exp_avg_sq", v);
                String denom = e.add(e.div(e.op("Sqrt", v), s.bc2Sqrt()), e.scalar(eps));
                String stepSize = e.div(lr, s.bc1());
                out.put("", e.sub(p, e.mul(e.div(m, denom), stepSize)));
            }
            default -> throw new IllegalStateException(kind.toString());
        }
        return out;
    }
}
