package graft.cli;

import graft.io.Options;
import graft.ir.Graph;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How to read MODEL_B of a two-model command (validate, diff); MODEL_A uses {@link InputOptions}. */
final class SecondModelOptions {
    @Option(names = "--b-from", paramLabel = "FORMAT", description = "Format of MODEL_B when its extension does not tell.")
    String from;

    @Option(names = "--b-weights", paramLabel = "FILE", description = "Weights file of MODEL_B (a .caffemodel for a .prototxt).")
    Path weights;

    @Option(names = "--b-config", paramLabel = "FILE", description = "Architecture JSON of a Keras weights-only MODEL_B.")
    Path config;

    Graph load(Path modelB, InputOptions first) {
        return ModelLoader.load(modelB, from, Options.none().set("weights", weights).set("config", config).set("phase", first.phase).set("init", first.init));
    }
}
