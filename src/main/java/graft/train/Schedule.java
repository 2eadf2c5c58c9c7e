package graft.train;

/**
 * Learning-rate schedules, evaluated in Java once per step and fed to the step graph as its
 * {@code lr} input (so a schedule change never rebuilds the graph). {@code iter} counts steps
 * from 0, as Caffe's solver does.
 */
public interface Schedule {
    double lr(long iter);

    static Schedule fixed(double base) {
        return it -> base;
    }

    /** Caffe "step": base * gamma^floor(iter / stepsize). */
    static Schedule step(double base, double gamma, long stepsize) {
        return it -> base * Math.pow(gamma, Math.floor((double) it / stepsize));
    }

    /** Caffe "exp": base * gamma^iter. */
    static Schedule exp(double base, double gamma) {
        return it -> base * Math.pow(gamma, it);
    }

    /** Cosine annealing from base to min over total steps, then min. */
    static Schedule cosine(double base, double min, long total) {
        return it -> it >= total ? min : min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * it / total));
    }

    /** Keras SGD/RMSprop {@code decay}: base / (1 + decay * iter). */
    static Schedule keras(double base, double decay) {
        return it -> base / (1 + decay * it);
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
