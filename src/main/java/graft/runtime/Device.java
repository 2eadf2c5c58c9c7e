package graft.runtime;

import graft.error.UsageException;

/** Where ONNX Runtime runs a session. */
public enum Device {
    CPU, CUDA;

    public static Device parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new UsageException("unknown device '" + s + "'; use cpu or cuda");
        };
    }
}
