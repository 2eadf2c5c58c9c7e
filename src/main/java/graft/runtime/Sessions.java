package graft.runtime;

import graft.error.EnvironmentException;
import graft.ir.Graph;
import graft.onnx.OnnxExporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Opens an ONNX Runtime session over a graph held in memory: the graph is written once to a
 * private temporary folder as ONNX with external-data weights (streamed, no copy in memory),
 * the session opens it, and the folder is removed at once (ONNX Runtime has read or mapped
 * what it needs).
 */
public final class Sessions {
    private Sessions() {
    }

    public static OrtRunner open(Graph g, Device device) {
        return open(g, device, 17);
    }

    public static OrtRunner open(Graph g, Device device, int opset) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("graft-session");
            return OrtRunner.open(export(g, dir, opset), device, integerQuantized(g));
        } catch (IOException e) {
            throw new EnvironmentException("cannot create a temporary folder for the session: " + e.getMessage(), e);
        } finally {
            delete(dir);
        }
    }

    /** Whether {@code g} computes with integer-quantized ops (QDQ pairs, QLinear*, *Integer): its sessions keep pre-packing. */
    public static boolean integerQuantized(Graph g) {
        for (graft.ir.Node n : g.nodes()) {
            String t = n.opType();
            if (t.equals("QuantizeLinear") || t.equals("DequantizeLinear") || t.startsWith("QLinear") || t.endsWith("Integer")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes {@code g} into {@code dir} as the file {@link #open} gives ONNX Runtime: ONNX at
     * {@code opset} with every weight in external data beside it (streamed, no copy in memory).
     * A session opened on the returned file computes what {@link #open} would, bit for bit (the
     * Spark module ships these files to its executors). Returns the .onnx file, {@code dir/model.onnx}.
     */
    public static Path export(Graph g, Path dir, int opset) {
        return exportFile(g, dir.resolve("model.onnx"), opset);
    }

    /** As {@link #export(Graph, Path, int)} to the file {@code model}, its weights in {@code model}.data beside it. */
    public static Path exportFile(Graph g, Path model, int opset) {
        OnnxExporter.write(g, model, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.ALWAYS, true, List.of()));
        return model;
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // temporary files: the OS cleans them eventually
        }
    }
}
