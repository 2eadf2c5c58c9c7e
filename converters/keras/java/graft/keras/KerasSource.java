package graft.keras;

import com.fasterxml.jackson.databind.JsonNode;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.io.ModelFiles;
import graft.ir.WeightData;
import graft.ir.Weight;
import graft.ir.LayoutTransform;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.object.datatype.FloatingPoint;
import io.jhdf.api.dataset.ContiguousDataset;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * An opened Keras file: the architecture JSON, the Keras version and backend that wrote it,
 * and the HDF5 group holding the layer weights. Reads {@code .h5} files directly (jhdf maps
 * the file: contiguous datasets become views) and {@code .keras} zips (config.json plus
 * model.weights.h5, memory-mapped in place when STORED, inflated to a private temporary file
 * when DEFLATED; a zip entry escaping its folder is refused), and the weights of each layer
 * ({@link #of}: Keras 2 weight_names, Keras 3 vars by layer name or by class-named group),
 * decoded here so that a weight's route from HDF5 to the IR stays in this file.
 *
 * <p>Owns the jhdf handle; weight views stay valid after {@link #close()} because they keep
 * their mapping alive. Not thread-safe.
 */
final class KerasSource implements AutoCloseable, LayerReader.WeightSource {
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    final Path file;
    final HdfFile hdf;
    final JsonNode config;
    final String kerasVersion;
    final String backend;
    /** The group whose children are the layer groups (model_weights, the root, or Keras 3 "layers"). */
    final Group weights;
    final boolean keras3;
    /** The file holding the HDF5 bytes in place, and where they start in it; null when they were extracted. */
    private Path regionFile;
    private long regionBase;

    private KerasSource(Path file, HdfFile hdf, JsonNode config, String kerasVersion, String backend, Group weights, boolean keras3) {
        this.file = file;
        this.hdf = hdf;
        this.config = config;
        this.kerasVersion = kerasVersion;
        this.backend = backend;
        this.weights = weights;
        this.keras3 = keras3;
    }

    private java.util.Map<String, List<String>> keras3Paths;

    /** Keras 3's class-named weight groups of every layer ({@link Keras3Paths}), computed once. */
    java.util.Map<String, List<String>> keras3Paths() {
        if (keras3Paths == null) {
            keras3Paths = Keras3Paths.of(config);
        }
        return keras3Paths;
    }

    private Boolean keras3ByClass;

    /**
     * Whether this Keras 3 file names its weight groups as Keras 3's saving_lib does (every group
     * under {@code layers/} is a class-based name of {@link #keras3Paths()}); otherwise the groups
     * are layer names (zips written by other tools), read as before.
     */
    boolean keras3ByClass() {
        if (keras3ByClass == null) {
            java.util.Set<String> tops = new java.util.HashSet<>();
            keras3Paths().values().forEach(p -> tops.add(p.get(0)));
            keras3ByClass = tops.containsAll(weights.getChildren().keySet());
        }
        return keras3ByClass;
    }

    /** Opens {@code file}; {@code configFile} is the architecture JSON of a weights-only file (or null). */
    static KerasSource open(Path file, Path configFile) {
        long size = ModelFiles.checkReadable(file);
        Path bytes = ModelFiles.source(file);
        byte[] head = ModelFiles.head(bytes, 8);
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            return openZip(file, bytes, configFile);
        }
        if (!startsWith(head, HDF5_SIGNATURE) && !hasSignatureAfterUserBlock(bytes, size)) {
            throw new MalformedModelException(file, "is not an HDF5 file (no HDF5 signature) and not a .keras zip. A Keras model is saved with model.save('x.h5')");
        }
        // jhdf reads through a mapping: its FileChannel reader allocates whatever size an object header
        // claims (jhdf 0.9.4 ObjectHeaderV1: ByteBuffer.allocate of a 32-bit size read from the file, an
        // OutOfMemoryError on a corrupted header, found by fuzzing), a mapping slices, bounds-checked.
        ByteBuffer whole = ModelFiles.map(bytes);
        HdfFile h = openHdf(file, () -> HdfFile.fromByteBuffer(whole));
        Group w = h.getChild("model_weights") instanceof Group g ? g : h;
        JsonNode cfg = configFile != null ? readJsonFile(configFile) : parseJson(file, stringAttr(file, h, "model_config"), "model_config");
        if (cfg == null) {
            h.close();
            throw new UnsupportedModelException("model '" + file + "' (root attributes): is a weights-only file (save_weights) without an architecture. Pass the model's JSON with --config arch.json",
                    List.of());
        }
        String version = firstNonNull(stringAttr(file, h, "keras_version"), stringAttr(file, w, "keras_version"), cfg.path("keras_version").asText(null));
        String backend = firstNonNull(stringAttr(file, h, "backend"), stringAttr(file, w, "backend"), cfg.path("backend").asText(null));
        KerasSource src = new KerasSource(file, h, cfg, version, backend, w, false);
        src.regionFile = bytes;
        src.regionBase = h.getUserBlockSize();
        return src;
    }

    /**
     * Where the {@code length} bytes at HDF5 address {@code address} lie in a file (the .h5, or
     * the .keras zip around a STORED model.weights.h5), or null when the HDF5 bytes were
     * extracted to a temporary file that is already gone.
     */
    graft.ir.FileRegion region(long address, long length) {
        return regionFile == null ? null : new graft.ir.FileRegion(regionFile, regionBase + address, length);
    }

    /** {@code bytes}: the file holding {@code file}'s bytes (its Git LFS object when {@code file} is a pointer). */
    private static KerasSource openZip(Path file, Path bytes, Path configFile) {
        try (ZipFile zip = new ZipFile(bytes.toFile())) {
            ZipEntry cfgEntry = null;
            ZipEntry weightsEntry = null;
            ZipEntry metaEntry = null;
            for (var en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String n = e.getName();
                if (n.contains("..") || n.startsWith("/") || n.startsWith("\\") || n.contains(":") || n.contains("\\")) {
                    throw new MalformedModelException(file, "zip entry '" + n + "' escapes the archive's folder (zip slip); refused");
                }
                switch (n) {
                    case "config.json" -> cfgEntry = e;
                    case "model.weights.h5" -> weightsEntry = e;
                    case "metadata.json" -> metaEntry = e;
                    default -> {
                        // assets and other entries are not needed to build the graph
                    }
                }
            }
            if (weightsEntry == null || (cfgEntry == null && configFile == null)) {
                throw new MalformedModelException(file, "is a zip without " + (weightsEntry == null ? "model.weights.h5" : "config.json")
                        + ", not a Keras 3 .keras file");
            }
            JsonNode cfg = configFile != null ? readJsonFile(configFile)
                    : parseJson(file, new String(readEntry(file, zip, cfgEntry, CONFIG_LIMIT), StandardCharsets.UTF_8), "config.json");
            JsonNode meta = metaEntry == null ? null
                    : parseJson(file, new String(readEntry(file, zip, metaEntry, 1L << 20), StandardCharsets.UTF_8), "metadata.json");
            Path[] inPlace = new Path[1];
            long[] base = new long[1];
            HdfFile h = openWeights(file, bytes, zip, weightsEntry, inPlace, base);
            Group layers = h.getChild("layers") instanceof Group g ? g : h;
            String version = meta == null ? null : meta.path("keras_version").asText(null);
            KerasSource src = new KerasSource(file, h, cfg, version, "tensorflow", layers, true);
            src.regionFile = inPlace[0];
            src.regionBase = base[0] + h.getUserBlockSize();
            return src;
        } catch (IOException e) {
            throw new MalformedModelException(file, "is not a readable zip (" + e.getMessage() + ")");
        }
    }

    /**
     * Opens model.weights.h5 without reading it into the heap: a STORED entry is memory-mapped
     * where it lies in the zip ({@code inPlace[0]} and {@code base[0]} then say where); a
     * DEFLATED one is inflated, streamed, into a file in a private temporary folder, which is
     * deleted as soon as jhdf holds it open (its mapping outlives the name, so nothing is left
     * behind even if graft is killed later).
     */
    private static HdfFile openWeights(Path file, Path bytes, ZipFile zip, ZipEntry e, Path[] inPlace, long[] base) throws IOException {
        ZipLocator.Located at = ZipLocator.locate(bytes, e.getName());
        if (at != null && at.method() == ZipEntry.STORED && at.size() == at.compressedSize() && at.size() <= Integer.MAX_VALUE) {
            ByteBuffer mapped;
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(bytes, java.nio.file.StandardOpenOption.READ)) {
                mapped = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, at.dataOffset(), at.size());
            }
            inPlace[0] = bytes;
            base[0] = at.dataOffset();
            return openHdf(file, () -> HdfFile.fromByteBuffer(mapped));
        }
        Path dir = Files.createTempDirectory("graft-keras-",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        Path tmp = dir.resolve("model.weights.h5");
        try {
            try (InputStream in = zip.getInputStream(e)) {
                Files.copy(in, tmp);
            } catch (java.util.zip.ZipException z) {
                throw new MalformedModelException(file, "zip entry '" + e.getName() + "' cannot be inflated (" + z.getMessage() + "); the file is truncated or corrupted");
            }
            ByteBuffer copy = ModelFiles.map(tmp);
            return openHdf(file, () -> HdfFile.fromByteBuffer(copy));
        } finally {
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * The most of a {@code .keras} config.json graft reads: 4 MB. A Keras layer's config is well
     * under 4 KB, so this is room for a thousand-layer model; the bytes, their String and the
     * JSON tree must fit beside everything else in a 256 MB heap even when the entry is a deflate
     * bomb (1,000:1, so a 4 KB zip can hold it). It was 64 MB: a 64 KB zip then exhausted the
     * heap before the JSON was even parsed.
     */
    static final long CONFIG_LIMIT = 4L << 20;

    /** An entry's bytes, at most {@code limit}: read up to the limit whatever size the zip's headers claim. */
    private static byte[] readEntry(Path file, ZipFile zip, ZipEntry e, long limit) throws IOException {
        if (e.getSize() > limit) {
            throw new MalformedModelException(file, "zip entry '" + e.getName() + "' claims " + e.getSize() + " bytes, more than the "
                    + (limit >> 20) + " MB graft reads of it");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 64));
            if (in.read() != -1) {
                throw new MalformedModelException(file, "zip entry '" + e.getName() + "' inflates to more than the " + (limit >> 20)
                        + " MB graft reads of it");
            }
            return b;
        } catch (java.util.zip.ZipException z) {
            throw new MalformedModelException(file, "zip entry '" + e.getName() + "' cannot be inflated (" + z.getMessage()
                    + "); the file is truncated or corrupted");
        }
    }

    private static HdfFile openHdf(Path file, java.util.function.Supplier<HdfFile> opener) {
        try {
            HdfFile h = opener.get();
            h.getChildren();
            return h;
        } catch (RuntimeException e) {
            throw new MalformedModelException(file, "is not a readable HDF5 file (" + oneLine(e) + "); it may be truncated or corrupted");
        }
    }

    /** Whether {@code e} was raised by the libraries reading the file (jhdf, jackson): the file's fault, not graft's. */
    static boolean libraryFault(RuntimeException e) {
        return e instanceof io.jhdf.exceptions.HdfException || graft.error.Faults.thrownIn(e, "io.jhdf.", "com.fasterxml.jackson.");
    }

    static String oneLine(Throwable e) {
        Throwable t = e;
        String m = String.valueOf(t.getMessage());
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
            if (t.getMessage() != null) {
                m = m + ": " + t.getMessage();
            }
        }
        return m.lines().findFirst().orElse(m);
    }

    private static boolean startsWith(byte[] a, byte[] prefix) {
        if (a.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (a[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** HDF5 allows a user block of 512, 1024, 2048 ... bytes before the signature. */
    private static boolean hasSignatureAfterUserBlock(Path file, long size) {
        for (long off = 512; off + 8 <= size && off <= (1 << 20); off *= 2) {
            byte[] b = new byte[8];
            try (var ch = java.nio.channels.FileChannel.open(file)) {
                ch.read(ByteBuffer.wrap(b), off);
            } catch (IOException e) {
                return false;
            }
            if (startsWith(b, HDF5_SIGNATURE)) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode readJsonFile(Path configFile) {
        ModelFiles.checkReadable(configFile);
        try {
            return parseJson(configFile, Files.readString(ModelFiles.source(configFile), StandardCharsets.UTF_8), "architecture JSON");
        } catch (IOException e) {
            throw new MalformedModelException(configFile, "cannot be read: " + e.getMessage());
        }
    }

    static JsonNode parseJson(Path file, String text, String what) {
        if (text == null) {
            return null;
        }
        try {
            JsonNode n = JsonTree.parse(text);
            if (n == null || !n.isObject()) {
                throw new MalformedModelException(file, what + " is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new MalformedModelException(file, what + " is not valid JSON (" + oneLine(e) + ")");
        }
    }

    /** A string attribute, whether stored as fixed-length bytes or variable-length UTF-8; null when absent. */
    static String stringAttr(Path file, Node node, String name) {
        try {
            Attribute a = node.getAttribute(name);
            if (a == null) {
                return null;
            }
            Object d = a.getData();
            if (d instanceof String s) {
                return s;
            }
            if (d instanceof String[] arr && arr.length == 1) {
                return arr[0];
            }
            throw new MalformedModelException(file, "attribute '" + name + "' of '" + node.getPath() + "' is not a string");
        } catch (MalformedModelException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new MalformedModelException(file, "attribute '" + name + "' of '" + node.getPath() + "' cannot be read (" + oneLine(e) + ")");
        }
    }

    /** A list-of-strings attribute (layer_names, weight_names); empty for Keras's empty float64 arrays. */
    static List<String> stringsAttr(Path file, Node node, String name) {
        List<String> r = new ArrayList<>();
        try {
            Attribute a = node.getAttribute(name);
            if (a == null) {
                return null;
            }
            if (a.isEmpty()) {
                return r;
            }
            Object d = a.getData();
            if (d instanceof String s) {
                r.add(s);
            } else if (d instanceof String[] arr) {
                r.addAll(List.of(arr));
            } else if (d != null && d.getClass().isArray() && java.lang.reflect.Array.getLength(d) == 0) {
                return r;
            } else {
                throw new MalformedModelException(file, "attribute '" + name + "' of '" + node.getPath() + "' is not a list of names");
            }
            return r;
        } catch (MalformedModelException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new MalformedModelException(file, "attribute '" + name + "' of '" + node.getPath() + "' cannot be read (" + oneLine(e) + ")");
        }
    }

    Dataset dataset(Group g, String path) {
        try {
            Node n = g.getByPath(path);
            if (n instanceof Dataset d) {
                return d;
            }
        } catch (RuntimeException e) {
            // reported below with the name of what is missing
        }
        return null;
    }

    private static String firstNonNull(String... s) {
        for (String x : s) {
            if (x != null && !x.isEmpty()) {
                return x;
            }
        }
        return null;
    }

    @Override
    public void close() {
        hdf.close();
    }

    // ---- weights (LayerReader reads each layer's through of(layer)) --------------------------

    /** True when some layer's weight names lack the ":0" suffix every TensorFlow variable has. */
    boolean theanoWeightNames() {
        for (var child : weights.getChildren().values()) {
            if (child instanceof Group grp) {
                List<String> names = stringsAttr(file, grp, "weight_names");
                if (names != null && names.stream().anyMatch(n -> !n.endsWith(":0"))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public List<Weight> of(KerasConfig.Layer layer) {
        List<Weight> r = new ArrayList<>();
        if (keras3 && keras3ByClass()) {
            // Keras 3's saving_lib names the group from the layer's class (conv2d, conv2d_1, ...).
            Group byClass = keras3Group(layer);
            return byClass == null ? r : keras3Vars(layer, byClass);
        }
        String[] path = layer.weightGroup().split("/");
        if (!(weights.getChildren().get(path[0]) instanceof Group top)) {
            return r;
        }
        Group group = top;
        if (keras3) {
            // Groups named by layer name (zips made by other tools, graft's fixture make_keras3.py).
            for (int i = 1; i < path.length; i++) {
                if (!(group.getChildren().get("layers") instanceof Group ls) || !(ls.getChildren().get(path[i]) instanceof Group next)) {
                    return r;
                }
                group = next;
            }
            return keras3Vars(layer, group);
        }
        List<String> names = stringsAttr(file, group, "weight_names");
        if (names == null) {
            throw new MalformedModelException(file, "layer group '" + layer.name() + "' has no weight_names attribute");
        }
        // A layer inside a nested model: its weights are the nested group's names under "LAYER/".
        String prefix = path.length > 1 ? path[path.length - 1] + "/" : null;
        for (String n : names) {
            if (prefix != null && !n.startsWith(prefix)) {
                continue;
            }
            Dataset d = dataset(group, n);
            if (d == null) {
                throw new MalformedModelException(file, "weight '" + n + "' of layer '" + layer.name()
                        + "' is listed in weight_names but the dataset is missing");
            }
            r.add(weight(layer, d, n));
        }
        return r;
    }

    /** The group Keras 3's saving_lib gives {@code layer}: layers/CLASS[_N][/layers/CLASS[_N]]; null when absent. */
    private Group keras3Group(KerasConfig.Layer layer) {
        List<String> path = keras3Paths().get(layer.weightGroup());
        if (path == null) {
            return null;
        }
        Group g = weights;
        for (int i = 0; i < path.size(); i++) {
            if (i > 0) {
                if (!(g.getChildren().get("layers") instanceof Group ls)) {
                    return null;
                }
                g = ls;
            }
            if (!(g.getChildren().get(path.get(i)) instanceof Group next)) {
                return null;
            }
            g = next;
        }
        return g;
    }

    private List<Weight> keras3Vars(KerasConfig.Layer layer, Group group) {
        List<Weight> r = new ArrayList<>();
        if (group.getChildren().get("vars") instanceof Group vars) {
            for (int i = 0; vars.getChildren().containsKey(Integer.toString(i)); i++) {
                r.add(weight(layer, dataset(vars, Integer.toString(i)), layer.name() + "/vars/" + i));
            }
        }
        return r;
    }

    /**
     * A weight over a dataset: for a contiguous little-endian float32 dataset, a view over jhdf's
     * mapping (no copy) that also names its file region, so writers copy it file to file;
     * float64 gets a pending conversion; chunked, compressed or big-endian datasets are decoded
     * by jhdf into one array (the only copy).
     */
    private Weight weight(KerasConfig.Layer layer, Dataset d, String name) {
        String wn = name.endsWith(":0") ? name.substring(0, name.length() - 2) : name;
        int[] dimsI = d.getDimensions();
        long[] dims = new long[dimsI.length];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = dimsI[i];
        }
        Class<?> jt = d.getJavaType();
        if (jt == long.class || jt == Long.class) {
            // int64 weights are counters (Keras Normalization's count), decoded into an array (a copy; they are tiny)
            long[] v = d.isScalar() ? new long[] {((Number) d.getData()).longValue()} : (long[]) d.getDataFlat();
            return Weight.ofLongs(wn, dims, v);
        }
        if (jt == int.class || jt == Integer.class) {
            // Keras 3 saves Normalization's count as an int32 scalar; a counter, widened to int64 like Keras 2's
            long[] v;
            if (d.isScalar()) {
                v = new long[] {((Number) d.getData()).longValue()};
            } else {
                int[] iv = (int[]) d.getDataFlat();
                v = new long[iv.length];
                for (int i = 0; i < iv.length; i++) {
                    v[i] = iv[i];
                }
            }
            return Weight.ofLongs(wn, dims, v);
        }
        if (jt != float.class && jt != double.class) {
            throw new MalformedModelException(file, "weight '" + name + "' of layer '" + layer.name() + "' has element type " + jt.getSimpleName()
                    + ", not float32, float64, int32 or int64");
        }
        boolean little = !(d.getDataType() instanceof FloatingPoint fp) || fp.getByteOrder() == ByteOrder.LITTLE_ENDIAN;
        long need = graft.ir.Shape.elementCount(dims) * (jt == float.class ? 4 : 8);
        if (d instanceof ContiguousDataset cd && little && d.getFilters().isEmpty()) {
            ByteBuffer buf = cd.getBuffer();
            if (buf.remaining() != need) {
                throw new MalformedModelException(file, "weight '" + name + "' of layer '" + layer.name() + "' holds " + buf.remaining()
                        + " bytes, its shape needs " + need + "; the file is truncated or corrupted");
            }
            graft.ir.FileRegion region = region(cd.getDataAddress(), need);
            WeightData data = region == null ? WeightData.of(buf) : WeightData.mapped(buf, region);
            Weight w = new Weight(wn, jt == float.class ? graft.ir.DataType.FLOAT : graft.ir.DataType.DOUBLE, dims, data);
            return jt == float.class ? w : w.with(LayoutTransform.toFloat());
        }
        Object flat = d.getDataFlat();
        float[] f;
        if (flat instanceof float[] fa) {
            f = fa;
        } else {
            double[] da = (double[]) flat;
            f = new float[da.length];
            for (int i = 0; i < da.length; i++) {
                f[i] = (float) da[i];
            }
        }
        return Weight.ofFloats(wn, dims, f);
    }
}
