package graft.cli;

import graft.io.Options;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command that reads a model shares. */
final class InputOptions {
    @Option(names = "--from", paramLabel = "FORMAT", description = "Input format when the extension does not tell (onnx, keras, caffe).")
    String from;

    @Option(names = "--weights", paramLabel = "FILE", description = "Weights file that goes with the model (a .caffemodel for a .prototxt).")
    Path weights;

    @Option(names = "--config", paramLabel = "FILE", description = "Architecture JSON for a Keras weights-only .h5.")
    Path config;

    @Option(names = "--phase", paramLabel = "PHASE", defaultValue = "TEST", description = "Caffe phase of a train_val net: TRAIN or TEST (default: ${DEFAULT-VALUE}).")
    String phase;

    @Option(names = "--data-shape", paramLabel = "CxHxW", description = "Caffe: image size of a Data layer whose database is not at hand, e.g. 1x28x28.")
    String dataShape;

    @Option(names = "--init", paramLabel = "fillers",
            description = "Caffe net without a caffemodel: start from the layers' fillers on purpose (else refused, exit 3).")
    String init;

    Options toOptions() {
        return Options.none().set("init", init).set("weights", weights).set("config", config).set("phase", phase).set("data-shape", dataShape);
    }
}
