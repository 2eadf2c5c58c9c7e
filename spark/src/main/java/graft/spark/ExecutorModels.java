package graft.spark;

import graft.error.MissingInputException;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One ONNX Runtime session per model file per executor JVM, opened by the first task that needs
 * it, shared by every later task of that JVM (ONNX Runtime's Run is safe from several threads),
 * and closed when the JVM shuts down.
 */
final class ExecutorModels {
    private static final Map<String, OrtRunner> OPEN = new ConcurrentHashMap<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(OrtRunner::close), "graft-close-sessions"));
    }

    private ExecutorModels() {
    }

    /** The session over {@code onnx}, opened once; a file this machine does not have is one line naming it and the host. */
    static OrtRunner session(Path onnx) {
        return OPEN.computeIfAbsent(onnx.toString(), k -> {
            if (!Files.isRegularFile(onnx)) {
                throw new MissingInputException("model '" + onnx + "': not on executor host " + host()
                        + ". Ship it with the job (the default) or put it on a path every executor reads");
            }
            return OrtRunner.open(onnx, Device.CPU);
        });
    }

    /** How many sessions this JVM holds (tests: one per executor, however many tasks ran). */
    static int open() {
        return OPEN.size();
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "(unknown)";
        }
    }
}
