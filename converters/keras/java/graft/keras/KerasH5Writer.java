package graft.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.UnsupportedModelException;
import graft.io.AtomicOutput;
import graft.ir.Weight;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The HDF5 side of the Keras 2 writer: string and string-array attributes, nested groups,
 * contiguous float32 datasets (a {@code model_config} longer than an object header message
 * holds goes to a global heap as a variable-length string, as h5py 3 writes Keras's own:
 * {@link GlobalHeap}), written by {@link Keras3Hdf} straight into the
 * {@link AtomicOutput} temporary file (a failure leaves nothing behind), each weight streamed
 * from its buffer: a weight whose importer transpose the writer undoes is copied as it is
 * ({@link Weight#with} cancels the two). No empty array attribute: {@code layer_names} lists
 * the layers that have weights, which is the list Keras's own loader keeps after dropping
 * weightless layers.
 */
final class KerasH5Writer {
    /** The Keras 2 file layout written (the version Keras would check for legacy conversions). */
    static final String KERAS_VERSION = "2.2.4";
    /** The version declared when a Conv2D has {@code groups} (tf.keras 2.3 saves keras_version 2.4.0; Keras 2.2.4 has no groups). */
    static final String KERAS_VERSION_GROUPS = "2.4.0";
    /**
     * The version declared when a global pooling keeps its dimensions ({@code keepdims}, added to
     * tf.keras's global pooling layers in 2.6; an earlier Keras rejects the unknown argument).
     */
    static final String KERAS_VERSION_KEEPDIMS = "2.6.0";
    /**
     * The version declared when a Rescaling or Normalization is written: their config as tf.keras
     * 2.15 saves it (Normalization's invert, mean and variance keys), the version the
     * keras.applications fixtures declare.
     */
    static final String KERAS_VERSION_PREPROCESSING = "2.15.0";

    private KerasH5Writer() {
    }

    static void write(Path target, ObjectNode config, List<KerasExporter.KLayer> layers, boolean force, List<Path> inputs,
            String multipliers, String backend, String kerasVersion) {
        String json = config.toString();
        Keras3Hdf.Group f = new Keras3Hdf.Group();
        f.attribute("keras_version", kerasVersion);
        f.attribute("backend", backend);
        f.attribute("model_config", json);
        if (multipliers != null) {
            f.attribute(KerasExporter.MULTIPLIERS, multipliers);
        }
        Keras3Hdf.Group mw = f.group("model_weights");
        mw.attribute("keras_version", kerasVersion);
        mw.attribute("backend", backend);
        List<String> withWeights = new ArrayList<>();
        for (KerasExporter.KLayer l : layers) {
            if (!l.weights().isEmpty()) {
                withWeights.add(l.name());
            }
        }
        if (!withWeights.isEmpty()) {
            mw.attribute("layer_names", withWeights.toArray(String[]::new));
        }
        for (KerasExporter.KLayer l : layers) {
            if (l.weights().isEmpty()) {
                continue;
            }
            Keras3Hdf.Group lg = mw.group(l.name());
            List<String> names = new ArrayList<>();
            for (Weight w : l.weights()) {
                names.add(l.name() + "/" + w.name());
            }
            lg.attribute("weight_names", names.toArray(String[]::new));
            Keras3Hdf.Group inner = lg.group(l.name());
            for (Weight w : l.weights()) {
                inner.dataset(w.name(), w);
            }
        }
        try (AtomicOutput out = AtomicOutput.open(target, force, inputs)) {
            try {
                Keras3Hdf.write(f, out.channel(), 0, false);
            } catch (Keras3Hdf.HeaderTooLarge e) {
                throw new UnsupportedModelException("output '" + target + "': " + (e.attribute == null ? "an HDF5 group header" : "the HDF5 attribute "
                        + e.attribute) + " would take " + e.bytes + " bytes, more than the 65,535 an HDF5 object header message holds. Write ONNX or .keras instead");
            }
            out.commit();
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + target + "': cannot be written: " + AtomicOutput.why(e), e);
        }
    }
}
