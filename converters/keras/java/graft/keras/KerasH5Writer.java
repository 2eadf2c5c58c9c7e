package graft.keras;

import com.fasterxml.jackson.databind.node.ObjectNode;
import graft.error.UnsupportedModelException;
import graft.io.AtomicOutput;
import graft.ir.Weight;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The HDF5 side of the Keras writer, with what jhdf 0.9.4 can write: string and string-array
 * attributes, nested groups, float32 datasets from Java arrays. jhdf cannot write an empty
 * array attribute, so {@code layer_names} lists the layers that have weights, which is the
 * list Keras's own loader keeps after dropping weightless layers. jhdf writes to a path, so
 * the file is written beside the target and copied into the {@link AtomicOutput} temporary
 * file: a failure leaves nothing behind. Each weight is copied once into a Java array (jhdf
 * needs arrays).
 */
final class KerasH5Writer {
    /** The Keras 2 file layout written (the version Keras would check for legacy conversions). */
    static final String KERAS_VERSION = "2.2.4";
    /** The version declared when a Conv2D has {@code groups} (tf.keras 2.3 saves keras_version 2.4.0; Keras 2.2.4 has no groups). */
    static final String KERAS_VERSION_GROUPS = "2.4.0";
    /** HDF5 keeps attributes in the object header, which holds at most 64 KiB. */
    private static final int MAX_ATTRIBUTE_BYTES = 60_000;

    private KerasH5Writer() {
    }

    static void write(Path target, ObjectNode config, List<KerasExporter.KLayer> layers, boolean force, List<Path> inputs,
            String multipliers, String backend, String kerasVersion) {
        String json = config.toString();
        if (json.getBytes(StandardCharsets.UTF_8).length > MAX_ATTRIBUTE_BYTES) {
            throw new UnsupportedModelException("output '" + target + "': the Keras model_config is " + json.length()
                    + " bytes, more than an HDF5 attribute written by jhdf can hold. Write ONNX instead");
        }
        try (AtomicOutput out = AtomicOutput.open(target, force, inputs)) {
            Path dir = out.target().getParent();
            Path tmp = Files.createTempFile(dir, "." + out.target().getFileName() + ".", ".jhdf.tmp");
            try {
                Files.delete(tmp);
                try (WritableHdfFile f = HdfFile.write(tmp)) {
                    f.putAttribute("keras_version", kerasVersion);
                    f.putAttribute("backend", backend);
                    f.putAttribute("model_config", json);
                    if (multipliers != null) {
                        f.putAttribute(KerasExporter.MULTIPLIERS, multipliers);
                    }
                    WritableGroup mw = f.putGroup("model_weights");
                    mw.putAttribute("keras_version", kerasVersion);
                    mw.putAttribute("backend", backend);
                    List<String> withWeights = new ArrayList<>();
                    for (KerasExporter.KLayer l : layers) {
                        if (!l.weights().isEmpty()) {
                            withWeights.add(l.name());
                        }
                    }
                    if (!withWeights.isEmpty()) {
                        mw.putAttribute("layer_names", withWeights.toArray(String[]::new));
                    }
                    for (KerasExporter.KLayer l : layers) {
                        if (l.weights().isEmpty()) {
                            continue;
                        }
                        WritableGroup lg = mw.putGroup(l.name());
                        List<String> names = new ArrayList<>();
                        for (Weight w : l.weights()) {
                            names.add(l.name() + "/" + w.name());
                        }
                        lg.putAttribute("weight_names", names.toArray(String[]::new));
                        WritableGroup inner = lg.putGroup(l.name());
                        for (Weight w : l.weights()) {
                            inner.putDataset(w.name(), array(w));
                        }
                    }
                }
                try (FileChannel in = FileChannel.open(tmp, StandardOpenOption.READ)) {
                    long n = in.size();
                    long done = 0;
                    while (done < n) {
                        done += out.channel().transferFrom(in.position(done), done, n - done);
                    }
                }
                out.commit();
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + target + "': cannot be written: " + e.getMessage(), e);
        } catch (io.jhdf.exceptions.HdfWritingException e) {
            // jhdf wraps the file system's refusal (a full disk, EFBIG): the machine's fault, not graft's.
            IOException io = ioCause(e);
            if (io == null) {
                throw e;
            }
            throw new graft.error.EnvironmentException("output '" + target + "': cannot be written: " + AtomicOutput.why(io), e);
        }
    }

    private static IOException ioCause(Throwable e) {
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof IOException io) {
                return io;
            }
        }
        return null;
    }

    /** The weight's final values as a nested Java float array of its rank (what jhdf writes). */
    static Object array(Weight w) {
        long[] s = w.shape();
        ByteBuffer b = w.buffer();
        float[] flat = w.dtype() == graft.ir.DataType.FLOAT ? null : w.toFloats();
        int[] pos = {0};
        return fill(s, 0, b, flat, pos);
    }

    private static Object fill(long[] s, int axis, ByteBuffer b, float[] flat, int[] pos) {
        int n = Math.toIntExact(s[axis]);
        if (axis == s.length - 1) {
            float[] r = new float[n];
            for (int i = 0; i < n; i++) {
                r[i] = flat != null ? flat[pos[0]] : b.getFloat(pos[0] * 4);
                pos[0]++;
            }
            return r;
        }
        Object first = null;
        Object[] parts = new Object[n];
        for (int i = 0; i < n; i++) {
            parts[i] = fill(s, axis + 1, b, flat, pos);
            first = first == null ? parts[i] : first;
        }
        Object r = java.lang.reflect.Array.newInstance(first == null ? float[].class : first.getClass(), n);
        for (int i = 0; i < n; i++) {
            java.lang.reflect.Array.set(r, i, parts[i]);
        }
        return r;
    }
}
