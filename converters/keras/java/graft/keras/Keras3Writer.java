package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.UnsupportedModelException;
import graft.io.AtomicOutput;
import graft.ir.Weight;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Writes a Keras 3 {@code .keras} file as Keras 3.15.1's {@code saving_lib} does: a zip of
 * {@code metadata.json}, {@code config.json} and {@code model.weights.h5}, in that order, all
 * STORED, Unix mode 0600, no extra fields; the JSON as Python's {@code json.dumps} spells it
 * ({@code ", "} and {@code ": "} separators, non-ASCII escaped). The weights file holds
 * {@code layers/<class_name in snake_case>[_N]/vars/<i>} for every layer (a {@code vars} group
 * even when empty, with a {@code name} attribute naming the layer, as 3.15.1 writes) and the
 * model's own empty {@code vars}. Reproducible: every zip entry is dated 1980-01-01 00:00 and
 * metadata.json's {@code date_saved} is {@value #DATE_SAVED}, so two saves of one model are
 * byte-identical. No Zip64: a file past 4 GiB is refused. The HDF5 file ({@link Keras3Hdf}) is
 * written in place inside the zip, each weight streamed from its buffer; the zip goes to an
 * {@link AtomicOutput} temporary file, so nothing is left behind on failure.
 */
final class Keras3Writer {
    /** metadata.json's save date, in Keras's {@code %Y-%m-%d@%H:%M:%S} form, fixed for reproducible files. */
    static final String DATE_SAVED = "1980-01-01@00:00:00";
    /** MS-DOS date of 1980-01-01 ((1980 - 1980) << 9 | 1 << 5 | 1); the time is 00:00:00 = 0. */
    private static final int DOS_DATE = 33;
    /** Made by Unix (3), zip spec 2.0, as Python's zipfile writes; version needed 2.0. */
    private static final int MADE_BY = 0x0314;
    private static final int NEEDED = 20;
    /** Mode 0600 in the high half, no file-type bits: what Keras 3.15.1's zip entries carry. */
    private static final int EXTERNAL = 0600 << 16;
    private static final long MAX32 = 0xFFFFFFFFL;

    private Keras3Writer() {
    }

    static void write(Path target, Keras3Config k3, boolean force, List<Path> inputs) {
        byte[] metadata = ("{\"keras_version\": " + pyString(Keras3Config.KERAS_VERSION) + ", \"date_saved\": " + pyString(DATE_SAVED) + "}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] config = pyJson(k3.json).getBytes(StandardCharsets.UTF_8);
        Keras3Hdf.Group weights = weights(k3);
        try (AtomicOutput out = AtomicOutput.open(target, force, inputs)) {
            Zip zip = new Zip(out.channel(), target);
            zip.entry("metadata.json", metadata);
            zip.entry("config.json", config);
            zip.weights("model.weights.h5", weights);
            zip.finish();
            out.commit();
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + target + "': cannot be written: " + AtomicOutput.why(e), e);
        }
    }

    /** model.weights.h5 as Keras 3.15.1 lays it out (the model's own vars first; HDF5 readers index links by name). */
    private static Keras3Hdf.Group weights(Keras3Config k3) {
        Keras3Hdf.Group root = new Keras3Hdf.Group();
        root.group("vars").attribute("name", k3.modelName);
        Keras3Hdf.Group layers = root.group("layers");
        for (int i = 0; i < k3.layers.size(); i++) {
            KerasExporter.KLayer l = k3.layers.get(i);
            Keras3Hdf.Group vars = layers.group(k3.groups.get(i)).group("vars");
            vars.attribute("name", l.name());
            int k = 0;
            for (Weight w : l.weights()) {
                vars.dataset(Integer.toString(k++), w);
            }
        }
        return root;
    }

    /**
     * A STORED zip written in one pass: local header and data per entry, then the central
     * directory. The weights entry's header is patched once its HDF5 file is written (size and
     * CRC-32 then known), as Python's zipfile does on a seekable file.
     */
    private static final class Zip {
        private final FileChannel out;
        private final Path target;
        private final java.io.ByteArrayOutputStream central = new java.io.ByteArrayOutputStream();
        private int count;

        Zip(FileChannel out, Path target) {
            this.out = out;
            this.target = target;
        }

        void entry(String name, byte[] data) throws IOException {
            CRC32 c = new CRC32();
            c.update(data);
            long offset = out.position();
            writeAll(local(name, c.getValue(), data.length), offset);
            writeAll(ByteBuffer.wrap(data), offset + 30 + name.length());
            out.position(offset + 30 + name.length() + data.length);
            central(name, c.getValue(), data.length, offset);
        }

        void weights(String name, Keras3Hdf.Group root) throws IOException {
            long offset = out.position();
            long data = offset + 30 + name.length();
            if (data > MAX32) {
                throw tooLarge();
            }
            Keras3Hdf.Written w = Keras3Hdf.write(root, out, data);
            if (data + w.size() > MAX32) {
                throw tooLarge();
            }
            writeAll(local(name, w.crc(), w.size()), offset);
            out.position(data + w.size());
            central(name, w.crc(), w.size(), offset);
        }

        private UnsupportedModelException tooLarge() {
            return new UnsupportedModelException("output '" + target + "': the weights pass 4 GiB; graft's .keras writer writes no Zip64. Write ONNX instead");
        }

        private static ByteBuffer local(String name, long crc, long size) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            ByteBuffer h = header(30 + n.length);
            h.putInt(0x04034b50).putShort((short) NEEDED).putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) DOS_DATE)
                    .putInt((int) crc).putInt((int) size).putInt((int) size).putShort((short) n.length).putShort((short) 0).put(n);
            return h.flip();
        }

        private void central(String name, long crc, long size, long offset) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            ByteBuffer c = header(46 + n.length);
            c.putInt(0x02014b50).putShort((short) MADE_BY).putShort((short) NEEDED).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putShort((short) DOS_DATE).putInt((int) crc).putInt((int) size).putInt((int) size).putShort((short) n.length)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(EXTERNAL).putInt((int) offset).put(n);
            central.write(c.array(), 0, c.position());
            count++;
        }

        void finish() throws IOException {
            long at = out.position();
            byte[] cd = central.toByteArray();
            if (at + cd.length + 22 > MAX32) {
                throw new UnsupportedModelException("output '" + target + "': passes 4 GiB; graft's .keras writer writes no Zip64. Write ONNX instead");
            }
            writeAll(ByteBuffer.wrap(cd), at);
            ByteBuffer e = header(22);
            e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count).putShort((short) count)
                    .putInt(cd.length).putInt((int) at).putShort((short) 0);
            writeAll(e.flip(), at + cd.length);
        }

        private static ByteBuffer header(int n) {
            return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        }

        private void writeAll(ByteBuffer b, long at) throws IOException {
            long p = at;
            while (b.hasRemaining()) {
                p += out.write(b, p);
            }
        }
    }

    // ---- JSON as Python's json.dumps writes it ---------------------------------------------

    static String pyJson(JsonNode n) {
        StringBuilder b = new StringBuilder();
        pyJson(n, b);
        return b.toString();
    }

    private static void pyJson(JsonNode n, StringBuilder b) {
        if (n.isObject()) {
            b.append('{');
            boolean first = true;
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                b.append(first ? "" : ", ").append(pyString(f.getKey())).append(": ");
                pyJson(f.getValue(), b);
                first = false;
            }
            b.append('}');
        } else if (n.isArray()) {
            b.append('[');
            for (int i = 0; i < n.size(); i++) {
                b.append(i == 0 ? "" : ", ");
                pyJson(n.get(i), b);
            }
            b.append(']');
        } else if (n.isTextual()) {
            b.append(pyString(n.asText()));
        } else {
            b.append(n.toString()); // numbers, booleans, null: JSON's own spelling
        }
    }

    /** A JSON string as Python writes it with ensure_ascii: every non-ASCII char as \\uXXXX. */
    static String pyString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
