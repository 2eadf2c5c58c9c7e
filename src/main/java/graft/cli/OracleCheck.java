package graft.cli;

import graft.error.EnvironmentException;
import graft.error.ExitCodes;
import graft.error.GraftException;
import graft.error.UnsupportedModelException;
import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.validate.Compare;
import graft.validate.Engine;
import graft.validate.Metrics;
import graft.validate.Report;
import graft.validate.Validation;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Validation against the source framework (issue #22): SOURCE's outputs are computed by an
 * implementation graft did not write, so a misreading by graft's own importer cannot pass.
 *
 * <ul>
 *   <li>{@code dl4j}: DL4J's Keras import reads the .h5 (inputs in Keras's own layout);
 *   <li>{@code opencv}: OpenCV's dnn module reads the Caffe prototxt + caffemodel, or the ONNX file;
 *   <li>{@code ort}: ONNX Runtime runs the original ONNX file untouched (in this JVM);
 *   <li>{@code graft}: the old check, both files read by graft's importers (not independent);
 *   <li>{@code auto}: the first of dl4j (Keras), opencv (Caffe), ort then opencv (ONNX) that can
 *       read SOURCE, else graft with a warning.
 * </ul>
 *
 * DL4J and OpenCV live in the oracle part (oracles/java, target/graft-VERSION-oracles.jar and
 * target/oracle-lib/), which is never on graft's own class path: they run in a child JVM
 * ({@code -Xmx2g}) that gets the inputs and gives the outputs as .npy files in a temporary
 * folder. A crash or hang there is one line and exit 3; {@code --oracle-timeout} bounds it.
 * A candidate .onnx is run untouched in ONNX Runtime; other candidate formats are read by
 * graft's importer and run in ONNX Runtime, and the report says so.
 */
final class OracleCheck {
    static final List<String> NAMES = List.of("auto", "dl4j", "opencv", "ort", "graft");
    static final long DEFAULT_TIMEOUT_S = 600;

    private OracleCheck() {
    }

    /** SOURCE as the user named it: the model file and its companions. */
    record Source(Path model, Path weights, Path config) {
    }

    /** An oracle declines the file (it cannot read or run it): the reason, one line. */
    static final class CannotRead extends Exception {
        CannotRead(String message) {
            super(message);
        }
    }

    /** The oracle part (DL4J, OpenCV) is not in this build: exit 3 when named, a warning and the next oracle under auto. */
    static final class NotBuilt extends UnsupportedModelException {
        NotBuilt(String message) {
            super(message);
        }
    }

    /** The reference outputs and who computed them; {@code layers}: each layer's activation, where asked and the oracle gives them. */
    record Reference(String oracle, String label, Map<String, Tensor> outputs, Map<String, Tensor> layers) {
        Reference(String oracle, String label, Map<String, Tensor> outputs) {
            this(oracle, label, outputs, Map.of());
        }
    }

    /**
     * Runs the whole check and prints the report: exit 0 within tolerance, 1 beyond; exit 3
     * when an explicitly named oracle cannot read SOURCE, crashes or times out.
     */
    static int validate(String oracle, long timeoutS, Source src, Graph a, Map<String, Tensor> feedsA, Path converted, Graph b,
                        Map<String, Tensor> feedsB, Compare.Tolerance tol, boolean json, boolean perLayer, PrintWriter out, PrintWriter err) {
        String o = oracle.toLowerCase(Locale.ROOT);
        if (!NAMES.contains(o)) {
            throw new UsageException("--oracle '" + oracle + "': not one of " + String.join(", ", NAMES));
        }
        String format = a.metadata().getOrDefault(ModelLoader.READ_FORMAT, "");
        List<String> tries = o.equals("auto") ? auto(format) : o.equals("graft") ? List.of() : List.of(o);
        Reference ref = null;
        for (String t : tries) {
            try {
                ref = reference(t, timeoutS, src, format, a, feedsA, perLayer);
                break;
            } catch (CannotRead e) {
                if (!o.equals("auto")) {
                    throw new UnsupportedModelException("oracle " + t + ": " + e.getMessage());
                }
                err.println("graft: oracle " + t + ": " + e.getMessage());
            } catch (NotBuilt e) {
                if (!o.equals("auto")) {
                    throw e;
                }
                err.println("graft: oracle " + t + ": " + e.getMessage());
            }
        }
        if (ref == null) {
            if (o.equals("auto")) {
                err.println("graft: warning: no independent oracle reads " + src.model().getFileName()
                        + "; falling back to graft's own reading of it: this check is NOT independent of graft's importers");
            }
            // Today's check, named as such: both files read by graft's importers.
            Engine re = Engine.onnxRuntime(a);
            Engine ce = converted == null ? Engine.reference(a) : Engine.onnxRuntime(b);
            Validation.Result r = perLayer ? Validation.perLayer(re, feedsA, ce, feedsB, tol) : Validation.outputs(re, feedsA, ce, feedsB, tol);
            print(r, "oracle: graft (NOT independent: " + (converted == null ? "one reading" : "both files read") + " by graft's importers)",
                    "graft", false, json, out);
            return r.passed() ? ExitCodes.OK : ExitCodes.VALIDATION_FAILED;
        }
        String header = "oracle: " + ref.oracle() + " (independent: " + ref.label() + " read " + src.model().getFileName()
                + " and computed the reference)";
        String refLabel = src.model().getFileName() + " (read and run by " + ref.label() + ")";
        Map<String, Tensor> candOut;
        String candLabel;
        if (converted == null) {
            candOut = Engine.onnxRuntime(a).run(feedsA);
            candLabel = src.model().getFileName() + " (read by graft's " + format + " importer, run in ONNX Runtime)";
        } else if (Formats.forFile(converted, null).name().equals("onnx")) {
            try (OrtRunner r = OrtRunner.open(converted, Device.CPU)) {
                candOut = r.run(feedsB);
            }
            candLabel = converted.getFileName() + " (ONNX Runtime on the file as written, not re-read by graft)";
        } else {
            candOut = Engine.onnxRuntime(b).run(feedsB);
            candLabel = converted.getFileName() + " (read by graft's " + b.metadata().getOrDefault(ModelLoader.READ_FORMAT, "")
                    + " importer, run in ONNX Runtime)";
        }
        Map<String, Tensor> refOut = named(ref.outputs(), a, candOut);
        Validation.Layers layers = new Validation.Layers(List.of(), List.of(), null);
        if (perLayer && ref.layers().isEmpty()) {
            err.println("graft: --per-layer: oracle " + ref.oracle() + " gives the outputs only (ONNX Runtime runs the file as it is, "
                    + "without graft's layer boundaries); comparing outputs, the first differing output is named");
        } else if (perLayer) {
            // The candidate's activations: the converted file as graft reads it (its layer names), run in ONNX Runtime.
            Engine ce = Engine.onnxRuntime(converted == null ? a : b);
            layers = Validation.layersAgainst(ref.layers(), ce, converted == null ? feedsA : feedsB, tol);
            if (layers.layers().isEmpty()) {
                err.println("graft: --per-layer: no layer of " + (converted == null ? src.model() : converted).getFileName()
                        + " has a name the oracle's layers have; comparing outputs");
            }
        }
        List<Metrics> outRows = compare(refOut, candOut, tol);
        Validation.Result r = new Validation.Result(refLabel, candLabel, tol, outRows, layers.layers(), layers.unmatched(),
                layers.firstDiverging(), List.of());
        print(r, header, ref.oracle(), true, json, out);
        if (perLayer && layers.layers().isEmpty() && !json) {
            String who = ref.oracle();
            outRows.stream().filter(m -> !m.within()).findFirst().ifPresent(m -> out.println("first output beyond tolerance: " + m.name()
                    + " (oracle " + who + " gives outputs only, not layers)"));
            out.flush();
        }
        return r.passed() ? ExitCodes.OK : ExitCodes.VALIDATION_FAILED;
    }

    private static void print(Validation.Result r, String header, String oracle, boolean independent, boolean json, PrintWriter out) {
        if (json) {
            out.print(withOracle(Report.json(r), oracle, independent));
        } else {
            out.println(header);
            out.print(Report.table(r));
        }
        out.flush();
    }

    /**
     * {@code convert --verify}: SOURCE read afresh, seeded random inputs (batch 1), OUT read
     * back as written (a Caffe OUT with the .caffemodel beside it), compared with
     * {@link #validate}'s default tolerances. The report is printed either way.
     */
    static int verify(Path in, InputOptions input, Path out, String oracle, long timeoutS, long[] hw, PrintWriter stdout, PrintWriter err) {
        Graph a = ModelLoader.load(in, input.from, input.toOptions());
        graft.io.Options ob = graft.io.Options.none().set("phase", input.phase);
        String outName = out.getFileName().toString();
        if (Formats.forFile(out, null).name().equals("caffe")) {
            String stem = outName.replaceFirst("\\.(prototxt|caffemodel)$", "");
            Path weights = out.resolveSibling(stem + ".caffemodel");
            out = out.resolveSibling(stem + ".prototxt");
            ob = ob.set("weights", weights);
        }
        Graph b = ModelLoader.load(out, null, ob);
        Map<String, Tensor> feedsA = graft.validate.Feeds.make(a, Map.of(), 0, new graft.validate.Feeds.Sizes(1, hw));
        Map<String, Tensor> feedsB = graft.validate.Feeds.carryOver(feedsA, a, b);
        stdout.println("verify: " + in.getFileName() + " -> " + out.getFileName());
        return validate(oracle, timeoutS, new Source(in, input.weights, input.config), a, feedsA, out, b, feedsB,
                new Compare.Tolerance(1e-4, 1e-3), false, false, stdout, err);
    }

    static List<String> auto(String format) {
        return switch (format) {
            case "keras" -> List.of("dl4j");
            case "caffe" -> List.of("opencv");
            case "onnx" -> List.of("ort", "opencv");
            default -> List.of();
        };
    }

    /** SOURCE's outputs by the named oracle, on {@code feeds} (graft's reading gives names and the Keras/Caffe layouts). */
    static Reference reference(String oracle, long timeoutS, Source src, String format, Graph a, Map<String, Tensor> feeds,
                               boolean layers) throws CannotRead {
        switch (oracle) {
            case "ort" -> {
                if (!format.equals("onnx")) {
                    throw new CannotRead("ONNX Runtime reads only ONNX files, not " + src.model().getFileName() + " (" + format + ")");
                }
                try (OrtRunner r = OrtRunner.open(graft.io.ModelFiles.source(src.model()), Device.CPU)) {
                    return new Reference("ort", "ONNX Runtime (the original file, untouched)", r.run(feeds));
                } catch (GraftException e) {
                    throw new CannotRead(e.getMessage());
                }
            }
            case "dl4j" -> {
                if (!format.equals("keras")) {
                    throw new CannotRead("DL4J reads only Keras .h5 files, not " + src.model().getFileName() + " (" + format + ")");
                }
                return child("dl4j", timeoutS, src, feeds, layers);
            }
            case "opencv" -> {
                if (!format.equals("caffe") && !format.equals("onnx")) {
                    throw new CannotRead("OpenCV reads Caffe and ONNX files, not " + src.model().getFileName() + " (" + format + ")");
                }
                Source s = src;
                if (format.equals("caffe") && src.model().getFileName().toString().endsWith(".caffemodel")) {
                    throw new CannotRead("OpenCV needs the .prototxt with the .caffemodel: give the prototxt as SOURCE and --weights");
                }
                return child("opencv", timeoutS, s, feeds, layers);
            }
            default -> throw new UsageException("--oracle '" + oracle + "': not one of " + String.join(", ", NAMES));
        }
    }

    // ---- the child JVM -----------------------------------------------------------------

    /** Runs the oracle part in a child JVM on {@code feeds}; its outputs in its order (and with {@code layers}, every layer's activation). */
    static Reference child(String oracle, long timeoutS, Source src, Map<String, Tensor> feeds, boolean layers) throws CannotRead {
        List<String> cp = classPath();
        Path work;
        try {
            work = Files.createTempDirectory("graft-oracle-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx2g", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:-CreateCoredumpOnCrash",
                    "-XX:ErrorFile=" + work.resolve("hs_err.log")));
            String fault = System.getProperty("graft.test.oracleFault");
            if (fault != null) {
                cmd.add("-Dgraft.test.oracleFault=" + fault);
            }
            cmd.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, cp), "graft.oracle.OracleMain", oracle, work.toString(),
                    graft.io.ModelFiles.source(src.model()).toAbsolutePath().toString()));
            // a Git LFS pointer's verified object: the oracle reads the same bytes graft read
            if (src.weights() != null) {
                cmd.addAll(List.of("--weights", graft.io.ModelFiles.source(src.weights()).toAbsolutePath().toString()));
            }
            if (src.config() != null) {
                cmd.addAll(List.of("--config", graft.io.ModelFiles.source(src.config()).toAbsolutePath().toString()));
            }
            if (layers) {
                cmd.add("--layers");
            }
            int i = 0;
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                Tensor t = e.getValue();
                if (t.dtype() != DataType.FLOAT) {
                    throw new CannotRead("input '" + e.getKey() + "' is " + t.dtype().lowerName() + "; the oracle part takes float32 inputs");
                }
                Path f = work.resolve("in_" + i++ + ".npy");
                ByteBuffer bb = ByteBuffer.allocate((int) t.count() * 4).order(ByteOrder.LITTLE_ENDIAN);
                bb.asFloatBuffer().put(t.toFloats());
                Npy.write(f, DataType.FLOAT, t.shape(), bb, true);
                cmd.addAll(List.of("--in", e.getKey() + "=" + f));
            }
            Path log = work.resolve("child.log");
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean done;
            try {
                done = p.waitFor(timeoutS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                done = false;
            }
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new UnsupportedModelException("oracle " + oracle + " (" + src.model().getFileName() + "): did not finish within "
                        + timeoutS + " s and was stopped. Raise --oracle-timeout, or use another --oracle");
            }
            int code = p.exitValue();
            List<String> lines = Files.exists(log) ? Files.readAllLines(log, java.nio.charset.StandardCharsets.UTF_8) : List.of();
            if (code == 3) {
                throw new CannotRead(lastLine(lines, "graft-oracle: ").replaceFirst("^graft-oracle: ", ""));
            }
            if (code != 0) {
                String why = Files.exists(work.resolve("hs_err.log")) ? "the JVM crashed in native code (" + crashLine(work.resolve("hs_err.log")) + ")"
                        : lastLine(lines, "");
                throw new UnsupportedModelException("oracle " + oracle + " (" + src.model().getFileName() + "): crashed, exit " + code
                        + ": " + why + ". graft is unaffected; use another --oracle");
            }
            List<String> desc = Files.readAllLines(work.resolve("outputs.txt"));
            Map<String, Tensor> outs = new LinkedHashMap<>();
            for (int k = 1; k < desc.size(); k++) {
                Npy.Array arr = Npy.read(work.resolve("out_" + (k - 1) + ".npy"));
                outs.put(desc.get(k), Tensor.ofFloats(arr.shape(), arr.toFloats()));
            }
            Map<String, Tensor> acts = new LinkedHashMap<>();
            if (layers && Files.exists(work.resolve("layers.txt"))) {
                List<String> names = Files.readAllLines(work.resolve("layers.txt"));
                for (int k = 0; k < names.size(); k++) {
                    Npy.Array arr = Npy.read(work.resolve("layer_" + k + ".npy"));
                    acts.put(names.get(k), Tensor.ofFloats(arr.shape(), arr.toFloats()));
                }
            }
            return new Reference(oracle, desc.get(0), outs, acts);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * The child's class path: this JVM's own (the graft jar, whose manifest names lib/; or,
     * under tests, the test class path that already holds DL4J and OpenCV), then the oracle
     * part: target/graft-*-oracles.jar (else target/oracle-classes) and target/oracle-lib/*.
     * System property {@code graft.oracles.dir} names another folder to look in instead of target/.
     */
    static List<String> classPath() {
        Path target;
        String dir = System.getProperty("graft.oracles.dir");
        try {
            Path here = Path.of(OracleCheck.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            target = dir != null ? Path.of(dir) : here.getParent();
        } catch (Exception e) {
            throw new EnvironmentException("cannot locate graft's own jar: " + e, e);
        }
        List<String> cp = new ArrayList<>();
        String testCp = System.getProperty("surefire.test.class.path");
        cp.addAll(Arrays.asList((testCp != null ? testCp : System.getProperty("java.class.path")).split(java.io.File.pathSeparator)));
        Path classes = target.resolve("oracle-classes");
        Path jar = null;
        try (var s = Files.list(target)) {
            jar = s.filter(f -> f.getFileName().toString().matches("graft-.*-oracles\\.jar")).findFirst().orElse(null);
        } catch (IOException e) {
            // reported below as not built
        }
        Path lib = target.resolve("oracle-lib");
        boolean libs = Files.isDirectory(lib) || testCp != null;
        boolean part = Files.isRegularFile(classes.resolve("graft/oracle/OracleMain.class")) || jar != null;
        if (!part || !libs) {
            throw new NotBuilt("the oracle part is not built (" + target.resolve("graft-VERSION-oracles.jar") + " and "
                    + lib + "/): build it with `mvn -DskipTests package` in graft's folder, without -Dgraft.oracles.skip=true"
                    + " (it downloads DL4J and OpenCV once), or use --oracle ort|graft");
        }
        cp.add(Files.isRegularFile(classes.resolve("graft/oracle/OracleMain.class")) ? classes.toString() : jar.toString());
        if (Files.isDirectory(lib)) {
            try (var s = Files.list(lib)) {
                s.filter(f -> f.toString().endsWith(".jar")).sorted().forEach(f -> cp.add(f.toString()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cp;
    }

    private static String lastLine(List<String> lines, String prefix) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            String l = lines.get(i).strip();
            if (!l.isEmpty() && l.startsWith(prefix)) {
                return l.length() > 400 ? l.substring(0, 400) + "..." : l;
            }
        }
        return prefix.isEmpty() ? "(no output)" : lastLine(lines, "");
    }

    private static String crashLine(Path hsErr) {
        try {
            for (String l : Files.readAllLines(hsErr, java.nio.charset.StandardCharsets.ISO_8859_1)) {
                if (l.startsWith("#  SIG") || l.startsWith("#  EXCEPTION")) {
                    return l.substring(1).strip();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "see hs_err";
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary folder left behind is harmless
        }
    }

    // ---- comparing -----------------------------------------------------------------------

    /**
     * The reference's outputs under the names graft's reading of SOURCE gives them (when the
     * counts agree), each reshaped to the candidate's shape when only the rank differs and the
     * element count agrees (DL4J omits a trailing Flatten: same values, same order).
     */
    static Map<String, Tensor> named(Map<String, Tensor> ref, Graph a, Map<String, Tensor> cand) {
        List<String> names = a.outputs().stream().map(Value::name).toList();
        List<Tensor> refs = new ArrayList<>(ref.values());
        List<Tensor> cands = new ArrayList<>(cand.values());
        List<String> keys = names.size() == refs.size() ? names : new ArrayList<>(ref.keySet());
        Map<String, Tensor> r = new LinkedHashMap<>();
        for (int i = 0; i < refs.size(); i++) {
            Tensor t = refs.get(i);
            Tensor c = cand.containsKey(keys.get(i)) ? cand.get(keys.get(i)) : i < cands.size() ? cands.get(i) : null;
            if (c != null && c.shape().length != t.shape().length && c.count() == t.count()) {
                t = Tensor.ofFloats(c.shape(), t.toFloats());
            }
            r.put(keys.get(i), t);
        }
        return r;
    }

    /** {@link Validation#compareOutputs}, plus a failing row when the candidate has outputs the oracle's reference lacks. */
    static List<Metrics> compare(Map<String, Tensor> ref, Map<String, Tensor> cand, Compare.Tolerance tol) {
        List<Metrics> r = new ArrayList<>(Validation.compareOutputs(ref, cand, tol));
        List<String> candNames = new ArrayList<>(cand.keySet());
        if (candNames.size() > ref.size() && !cand.keySet().containsAll(ref.keySet())) {
            String extra = candNames.get(ref.size());
            r.add(Metrics.incomparable(extra, cand.get(extra).shape(), new long[0],
                    "the reference has " + ref.size() + " outputs, the candidate " + candNames.size()));
        }
        return r;
    }

    static String withOracle(String json, String oracle, boolean independent) {
        try {
            var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
            var node = (com.fasterxml.jackson.databind.node.ObjectNode) mapper.readTree(json);
            var m = mapper.createObjectNode();
            m.put("oracle", oracle);
            m.put("independent", independent);
            m.setAll(node);
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(m) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
