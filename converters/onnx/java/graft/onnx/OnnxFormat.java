package graft.onnx;

import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;

/**
 * ONNX as a {@link ModelFormat}. Options read: {@code opset} (default 17),
 * {@code external-data} (auto|always|never), {@code force}, {@code inputs}.
 */
public final class OnnxFormat implements ModelFormat {
    @Override
    public String name() {
        return "onnx";
    }

    @Override
    public boolean claims(Path file) {
        return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".onnx");
    }

    @Override
    public Graph read(Path file, Options options) {
        return OnnxImporter.read(file);
    }

    @Override
    public void writeChecked(Graph graph, Path file, Options options) {
        OnnxExporter.ExternalData mode = switch (options.string("external-data", "auto").toLowerCase(java.util.Locale.ROOT)) {
            case "always", "true", "yes" -> OnnxExporter.ExternalData.ALWAYS;
            case "never", "false", "no" -> OnnxExporter.ExternalData.NEVER;
            default -> OnnxExporter.ExternalData.AUTO;
        };
        OnnxExporter.write(graph, file, new OnnxExporter.Settings(options.integer("opset", OpsetAdapter.IR_OPSET), mode,
                options.flag("force"), options.paths("inputs")));
    }
}
