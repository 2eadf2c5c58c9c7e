package graft.train;

/**
 * Learning-rate schedules, evaluated in Java once per step and fed to the step graph as its
 * {@code lr} input (so a schedule change never rebuilds the graph). {@code iter} counts steps
 * from 0, as Caffe's solver does.
 */
public interface Schedule {
    double lr(long iter);

    /**
     * A schedule with its description ("lr 0.01, step:0.1:1000"), which {@code toString} gives:
     * checkpoints record it so a resumed run can say when it continues with another one.
     */
    record Described(String text, java.util.function.LongToDoubleFunction f) implements Schedule {
        @Override
        public double lr(long iter) {
            return f.applyAsDouble(iter);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private static String g(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    static Schedule fixed(double base) {
        return new Described("lr " + g(base) + ", fixed", it -> base);
    }

    /** Caffe "step": base * gamma^floor(iter / stepsize). */
    static Schedule step(double base, double gamma, long stepsize) {
        return new Described("lr " + g(base) + ", step:" + g(gamma) + ":" + stepsize,
                it -> base * Math.pow(gamma, Math.floor((double) it / stepsize)));
    }

    /** Caffe "exp": base * gamma^iter. */
    static Schedule exp(double base, double gamma) {
        return new Described("lr " + g(base) + ", exp:" + g(gamma), it -> base * Math.pow(gamma, it));
    }

    /** Cosine annealing from base to min over total steps, then min. */
    static Schedule cosine(double base, double min, long total) {
        return new Described("lr " + g(base) + ", cosine:" + total + ":" + g(min),
                it -> it >= total ? min : min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * it / total)));
    }

    /** Keras SGD/RMSprop {@code decay}: base / (1 + decay * iter). */
    static Schedule keras(double base, double decay) {
        return new Described("lr " + g(base) + ", keras:" + g(decay), it -> base / (1 + decay * it));
    }

    /** Parses fixed, step:GAMMA:STEPSIZE, exp:GAMMA, cosine:TOTAL[:MIN], keras:DECAY. */
    static Schedule parse(String spec, double base) {
        String[] p = spec.split(":");
        try {
            return switch (p[0]) {
                case "fixed" -> fixed(base);
                case "step" -> step(base, Double.parseDouble(p[1]), Long.parseLong(p[2]));
                case "exp" -> exp(base, Double.parseDouble(p[1]));
                case "cosine" -> cosine(base, p.length > 2 ? Double.parseDouble(p[2]) : 0, Long.parseLong(p[1]));
                case "keras" -> keras(base, Double.parseDouble(p[1]));
                default -> throw new graft.error.UsageException("--schedule '" + spec + "': unknown policy '" + p[0]
                        + "'. Use fixed, step:GAMMA:STEPSIZE, exp:GAMMA, cosine:TOTAL[:MIN] or keras:DECAY");
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException ex) {
            throw new graft.error.UsageException("--schedule '" + spec + "': malformed. Use fixed, step:GAMMA:STEPSIZE, "
                    + "exp:GAMMA, cosine:TOTAL[:MIN] or keras:DECAY");
        }
    }
}
