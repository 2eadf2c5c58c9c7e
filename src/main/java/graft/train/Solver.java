package graft.train;

import graft.error.MalformedModelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The hyper-parameters of a Caffe {@code solver.prototxt} (the flat {@code key: value} fields;
 * {@code net} and other nested or path fields are ignored): base_lr, lr_policy (fixed, step,
 * exp), gamma, stepsize, momentum, weight_decay, max_iter, test_interval, type (SGD, Nesterov,
 * Adam, RMSProp) with momentum2, delta and rms_decay. Validation runs once per epoch whatever
 * test_interval says; max_iter becomes a number of epochs for the data at hand.
 */
public record Solver(Map<String, String> fields) {
    public static Solver read(Path file) {
        Map<String, String> f = new LinkedHashMap<>();
        try {
            int line = 0;
            for (String raw : Files.readAllLines(file)) {
                line++;
                String s = raw.replaceAll("#.*$", "").trim();
                if (s.isEmpty() || s.endsWith("{") || s.equals("}")) {
                    continue;
                }
                int c = s.indexOf(':');
                if (c <= 0) {
                    throw new MalformedModelException(file, "line " + line + " '" + s + "' is not 'key: value'");
                }
                f.put(s.substring(0, c).trim(), s.substring(c + 1).trim().replace("\"", ""));
            }
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage(), e);
        }
        return new Solver(f);
    }

    double num(String key, double dflt) {
        String v = fields.get(key);
        try {
            return v == null ? dflt : Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new graft.error.UsageException("solver field '" + key + "': '" + v + "' is not a number");
        }
    }

    public double baseLr() {
        return num("base_lr", 0.01);
    }

    public long maxIter() {
        return (long) num("max_iter", 0);
    }

    public Schedule schedule() {
        String policy = fields.getOrDefault("lr_policy", "fixed");
        return switch (policy) {
            case "fixed" -> Schedule.fixed(baseLr());
            case "step" -> Schedule.step(baseLr(), num("gamma", 0.1), (long) num("stepsize", 1));
            case "exp" -> Schedule.exp(baseLr(), num("gamma", 1));
            default -> throw new graft.error.UnsupportedModelException("solver lr_policy '" + policy
                    + "' is not supported. Use fixed, step or exp");
        };
    }

    public Optimizer optimizer() {
        String type = fields.getOrDefault("type", fields.getOrDefault("solver_type", "SGD")).toUpperCase(Locale.ROOT);
        double wd = num("weight_decay", 0);
        return switch (type) {
            case "SGD" -> Optimizer.sgd(num("momentum", 0), false, wd);
            case "NESTEROV" -> Optimizer.sgd(num("momentum", 0), true, wd);
            case "ADAM" -> Optimizer.adam(num("momentum", 0.9), num("momentum2", 0.999), num("delta", 1e-8), wd);
            case "RMSPROP" -> Optimizer.rmsprop(num("rms_decay", 0.99), num("delta", 1e-8), wd);
            default -> throw new graft.error.UnsupportedModelException("solver type '" + type
                    + "' is not supported. Use SGD, Nesterov, Adam or RMSProp");
        };
    }
}
