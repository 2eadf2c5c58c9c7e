package graft.cli;

import static graft.cli.AuditTools.checkpoint;
import static graft.cli.AuditTools.error;
import static graft.cli.AuditTools.exactError;
import static graft.cli.AuditTools.featureLayer;
import static graft.cli.AuditTools.firstLayerWithParameters;
import static graft.cli.AuditTools.firstLine;
import static graft.cli.AuditTools.frozenMoved;
import static graft.cli.AuditTools.lastOutput;
import static graft.cli.AuditTools.listing;
import static graft.cli.AuditTools.longs;
import static graft.cli.AuditTools.outputShape;
import static graft.cli.AuditTools.stem;
import static org.assertj.core.api.Assertions.assertThat;

import graft.error.GraftException;
import graft.io.Npy;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Tensor;
import graft.keras.TfjsOracle;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import graft.validate.Feeds;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The silent-output audit: every command that writes a model, on every model file of
 * {@code ../shared/corpus} and {@code fixtures/}, to every format graft writes. The rule it
 * checks is the project's first rule: exit 0 means the written model is right, any other exit
 * means no output file (and no temporary file) is left.
 *
 * <p>"Right" is checked twice. {@code graft validate SOURCE OUTPUT} must pass; and, where an
 * implementation graft did not write can run both files, the source run by its own format's
 * oracle (ONNX Runtime on the untouched ONNX file, TensorFlow.js on the Keras {@code .h5},
 * OpenCV's Caffe importer on the prototxt + caffemodel) must agree with the output run by the
 * output format's oracle within {@link #TOLERANCE} of the output's magnitude. A surgery that
 * freezes a layer must also read back frozen from the written file. Exit 4 (graft's own bug) is
 * a failure wherever it appears. Every ONNX file written with exit 0 must also pass
 * {@code onnx.checker.check_model(full_check=True)} and the schema check at its opset
 * (fixtures/onnx/check_onnx.py; opsets 18..21 rest on ONNX Runtime loading them).
 *
 * <p>Two more commands get columns. {@code features --upto L} (L: the pooling layer nearest the
 * middle, else the middle layer) on the audit's seeded input must equal the source run up to L
 * by its own format's oracle: ONNX Runtime on the source with L's value made the output by the
 * onnx package (tests/oracle/onnx/edit_batch.py), TensorFlow.js's {@code getLayer(L).output},
 * OpenCV's {@code forward(L)}. {@code finetune --save-as} (one seeded epoch on one seeded sample
 * per class of a head of at most {@link #MAX_CLASSES} classes, the first layer with weights
 * frozen) to ONNX, Keras and Caffe: the frozen layer's weights must read back bit-identical to
 * the source's, and the saved file run by its format's oracle must equal what the training
 * computed: the source as ONNX (the untouched file, or this audit's checked convert -> onnx
 * file) with the run's checkpoint tensors put in by the onnx package, run in ONNX Runtime.
 * The matrix is written to {@code target/audit/matrix.md} (README's "Silent-output audit"
 * table is that file, grouped).
 */
// In the default suite: 710 s on the shared 2-core machine at load 6-11 (99 sources, with features; finetune is -Pslow).
class SilentOutputAuditTest {
    /** External oracles agree with each other to about 1e-7 on these models (ORACLES.md); a wrong layout lands near 1e-1. */
    static final double TOLERANCE = 1e-4;

    record Source(Path file, List<String> readArgs, Path weights) {
        String label() {
            return TestPaths.root().relativize(file.toAbsolutePath().normalize()).toString()
                    .replace("../shared/corpus/", "corpus/");
        }
    }

    record Target(String name, String ext, List<String> args) {
    }

    static final List<Target> TARGETS = List.of(
            new Target("onnx", ".onnx", List.of()),
            new Target("onnx@9", ".onnx", List.of("--opset", "9")),
            new Target("onnx@21", ".onnx", List.of("--opset", "21")),
            new Target("keras", ".h5", List.of()),
            new Target("caffe", ".prototxt", List.of()));

    /** One external-oracle run still to do: a file, its inputs, and where its outputs land. */
    static final class Pending {
        final Path model;
        final Path caffemodel;
        final List<Tensor> inputs;
        /** A Keras/Caffe layer, or an ONNX value, whose output is wanted instead of the model's. */
        String layer;
        /** ONNX: initializers replaced (by the onnx package) before the run: name -> .npy. */
        Map<String, Path> tensors = Map.of();
        /** ONNX: where the edited copy is written. */
        Path edited;
        List<Tensor> outputs;
        String error;

        Pending(Path model, Path caffemodel, List<Tensor> inputs) {
            this.model = model;
            this.caffemodel = caffemodel;
            this.inputs = inputs;
        }

        static Pending computed(Tensor t) {
            Pending p = new Pending(null, null, List.of());
            p.outputs = List.of(t);
            return p;
        }
    }

    /** A cell of the matrix whose verdict waits for the external oracles. */
    record Check(String row, String column, Pending reference, Pending converted) {
    }

    final Map<String, Map<String, String>> matrix = new LinkedHashMap<>();
    final List<String> violations = new ArrayList<>();
    final List<String> known = new ArrayList<>();

    /**
     * Findings fixed on another branch and not yet merged here ("row | column" -> where): shown in
     * the matrix as KNOWN and listed, not failed. Remove an entry once its fix is merged. (Finding
     * (c) was the audit's own: a Keras layer name cannot hold '/', so the frozen layer is looked up
     * as the written file's first layer with parameters when its source name is not there.)
     */
    static final Map<String, String> KNOWN = Map.of();
    final List<Check> checks = new ArrayList<>();
    final List<Pending> tfjs = new ArrayList<>();
    final List<Pending> opencv = new ArrayList<>();
    final List<Pending> onnxEdits = new ArrayList<>();

    @Test
    void exitZeroMeansACorrectModelAndAnyOtherExitMeansNoFile() throws IOException {
        List<Source> sources = sources();
        // -Dgraft.audit.only=REGEX audits only the sources whose label matches (while working on a finding)
        String only = System.getProperty("graft.audit.only");
        if (only != null && !only.isBlank()) {
            sources = sources.stream().filter(x -> java.util.regex.Pattern.compile(only).matcher(x.label()).find()).toList();
        } else {
            assertThat(sources).hasSizeGreaterThan(40);
        }
        Path scratch = TestPaths.scratch("silent-output-audit" + (reportName().equals("matrix.md") ? "" : "-" + reportName().replace(".md", "")));
        int i = 0;
        for (Source s : sources) {
            audit(s, scratch.resolve(String.format(Locale.ROOT, "%03d", i++)));
        }
        runExternalOracles(scratch.resolve("oracles"));
        for (Check c : checks) {
            judge(c);
        }
        checkOnnxFiles(scratch.resolve("onnx_checker.txt"));
        Path report = TestPaths.root().resolve("target/audit/" + reportName());
        Files.createDirectories(report.getParent());
        Files.writeString(report, table());
        System.out.println(summary());
        assertThat(violations).as("silent-output violations (matrix in " + report + ")").isEmpty();
    }

    /** The formats convert and surgery write to (a subclass sweeps every opset). */
    List<Target> targets() {
        return TARGETS;
    }

    List<String> commands() {
        return List.of("convert", "surgery");
    }

    /** Whether features gets its column. */
    boolean features() {
        return true;
    }

    /** Whether finetune --save-as gets its columns (the slow SilentOutputAuditFinetuneTest: a training run per cell). */
    boolean finetune() {
        return false;
    }

    String reportName() {
        return "matrix.md";
    }

    /** Every ONNX file written with exit 0 (row, column, file): onnx.checker runs over all of them at the end. */
    final List<String[]> writtenOnnx = new ArrayList<>();

    /**
     * onnx.checker.check_model(full_check=True) and a node-by-node schema check at the file's
     * opset (fixtures/onnx/check_onnx.py) on every ONNX file written; opsets newer than the
     * installed onnx knows (18..21 with onnx 1.12) are checked by ONNX Runtime's loading only.
     */
    void checkOnnxFiles(Path list) throws IOException {
        if (writtenOnnx.isEmpty() || !Python.has("onnx")) {
            return;
        }
        Files.writeString(list, writtenOnnx.stream().map(w -> w[2]).collect(Collectors.joining("\n")) + "\n");
        String out = Python.run(TestPaths.fixtures().resolve("onnx/check_onnx.py"), list.toString());
        for (String line : out.split("\n")) {
            if (!line.startsWith("FAIL ")) {
                continue;
            }
            for (String[] w : writtenOnnx) {
                if (line.startsWith("FAIL " + w[2] + ":")) {
                    violation(w[0], w[1], "onnx.checker: " + line.substring(("FAIL " + w[2] + ":").length()).strip());
                    cell(w[0], w[1], "WRONG (onnx.checker)");
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------

    static List<Source> sources() throws IOException {
        List<Source> r = new ArrayList<>();
        for (Path root : List.of(TestPaths.corpus(), TestPaths.fixtures())) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> s = Files.walk(root)) {
                files = s.filter(Files::isRegularFile).filter(p -> !p.toString().contains("/hostile/"))
                        .filter(p -> !p.toString().contains("/golden/")).filter(p -> !p.toString().contains("/broken"))
                        .filter(p -> {
                            String n = p.getFileName().toString();
                            return n.endsWith(".onnx") || n.endsWith(".prototxt") || (n.endsWith(".h5") && !n.endsWith("_inputs_and_outputs.h5"));
                        }).sorted().toList();
            }
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.endsWith(".prototxt")) {
                    Path w = siblingCaffemodel(f);
                    r.add(new Source(f, w == null ? List.of() : List.of("--weights", w.toString()), w));
                } else {
                    r.add(new Source(f, List.of(), null));
                }
            }
        }
        return r;
    }

    /** The caffemodel a deploy/net prototxt goes with: the one caffemodel in its folder, if any. */
    static Path siblingCaffemodel(Path prototxt) throws IOException {
        try (Stream<Path> s = Files.list(prototxt.getParent())) {
            List<Path> models = s.filter(p -> p.getFileName().toString().endsWith(".caffemodel")).toList();
            return models.size() == 1 ? models.get(0) : null;
        }
    }

    void audit(Source s, Path dir) throws IOException {
        Files.createDirectories(dir);
        Graph g = null;
        String readError = null;
        try {
            Options o = Options.none().set("weights", s.weights());
            g = Formats.forFile(s.file(), null).read(s.file(), o);
        } catch (GraftException e) {
            readError = e.getMessage();
        }
        // Symbolic H and W get the first of these sizes the model's layers take: LeNet's train_val
        // net has a symbolic data shape, but its ip1 takes exactly 800 = 50x4x4 features, so only
        // 28x28 fits (validate refuses 32x32 with exit 2, naming both shapes).
        Map<String, Tensor> feeds = null;
        String size = "32x32";
        if (g != null) {
            for (long hw : new long[] {32, 28, 224, 227}) {
                try {
                    feeds = Feeds.make(g, Map.of(), 7, new Feeds.Sizes(1, new long[] {hw, hw}));
                    Feeds.checkFits(g, feeds, null);
                    size = hw + "x" + hw;
                    break;
                } catch (GraftException e) {
                    feeds = null;
                }
            }
        }
        Pending reference = feeds == null ? null : external(s.file(), s.weights(), List.copyOf(feeds.values()));
        String frozen = g == null ? null : firstLayerWithParameters(g);
        for (String command : commands()) {
            for (Target t : targets()) {
                if (command.equals("surgery") && t.name().startsWith("onnx@")) {
                    continue;
                }
                String column = command + " -> " + t.name();
                Path out = dir.resolve(command + "_" + t.name().replace('@', '_') + t.ext());
                List<String> args = new ArrayList<>();
                args.add(command);
                args.add(s.file().toString());
                args.addAll(s.readArgs());
                if (command.equals("convert")) {
                    args.add(out.toString());
                } else {
                    // freeze the first layer that has parameters: numerically a no-op, so the written
                    // model must still match the source, and the freeze must survive the format
                    args.add("--edit");
                    args.add("freeze " + (frozen == null ? "0" : frozen));
                    args.add("-o");
                    args.add(out.toString());
                }
                args.addAll(t.args());
                Set<String> before = listing(dir);
                Cli.Result r = Cli.run(args.toArray(String[]::new));
                Set<String> after = listing(dir);
                after.removeAll(before);
                String row = s.label();
                if (r.code() != 0) {
                    String line = firstLine(r.err());
                    cell(row, column, "refused (" + r.code() + ")");
                    if (r.code() == 4) {
                        violation(row, column, "exit 4 (graft's own bug): " + line);
                    }
                    if (!after.isEmpty()) {
                        violation(row, column, "exit " + r.code() + " but left " + after + ": " + line);
                    }
                    // a refusal to write an opset is the user's input (2) or the model (3), in one line
                    if (t.name().startsWith("onnx@") && (r.code() < 2 || r.code() > 3 || r.err().strip().contains("\n"))) {
                        violation(row, column, "refusal at an opset is exit " + r.code() + " in " + r.err().strip().split("\n").length
                                + " lines (want exit 2 or 3, one line): " + line);
                    }
                    continue;
                }
                if (!Files.isRegularFile(out)) {
                    violation(row, column, "exit 0 but no " + out.getFileName());
                    continue;
                }
                Path caffemodel = t.name().equals("caffe") ? out.resolveSibling(stem(out) + ".caffemodel") : null;
                // graft's own check here (--oracle graft): the independent references of this audit are
                // TF.js/OpenCV/ORT on the files themselves below; validate's default would ask DL4J,
                // known wrong on six corpus files (OracleSweepTest), and start a JVM per cell
                List<String> validate = new ArrayList<>(List.of("validate", s.file().toString(), out.toString(), "--seed", "7", "--size", size,
                        "--oracle", "graft"));
                validate.addAll(s.readArgs());
                if (caffemodel != null) {
                    validate.addAll(List.of("--b-weights", caffemodel.toString()));
                }
                Cli.Result v = Cli.run(validate.toArray(String[]::new));
                if (v.code() != 0) {
                    violation(row, column, "exit 0 but graft validate says " + v.code() + ": " + firstLine(v.err().isBlank() ? v.out() : v.err()));
                    cell(row, column, "WRONG");
                    continue;
                }
                if (command.equals("surgery") && frozen != null) {
                    try {
                        Graph back = Formats.forFile(out, null).read(out, Options.none().set("weights", caffemodel));
                        String again = back.layers().contains(frozen) ? frozen : firstLayerWithParameters(back);
                        if (again == null || back.trainingOf(again).trainable()) {
                            violation(row, column, "'" + frozen + "' (written as '" + again + "') frozen by the surgery reads back trainable from "
                                    + out.getFileName());
                            cell(row, column, KNOWN.containsKey(row + " | " + column) ? "FREEZE LOST (known: (c))" : "FREEZE LOST");
                            continue;
                        }
                    } catch (GraftException e) {
                        violation(row, column, "graft cannot read back its own " + out.getFileName() + ": " + e.getMessage());
                        continue;
                    }
                }
                cell(row, column, "ok (graft)");
                if (t.ext().equals(".onnx")) {
                    writtenOnnx.add(new String[] {row, column, out.toAbsolutePath().toString()});
                }
                if (reference != null) {
                    Graph written;
                    try {
                        written = Formats.forFile(out, null).read(out, Options.none().set("weights", caffemodel));
                    } catch (GraftException e) {
                        continue;
                    }
                    List<Tensor> in;
                    try {
                        in = List.copyOf(Feeds.carryOver(feeds, g, written).values());
                    } catch (GraftException e) {
                        violation(row, column, "the written model's inputs differ from the source's: " + e.getMessage());
                        cell(row, column, "INPUTS CHANGED");
                        continue;
                    }
                    checks.add(new Check(row, column, reference, external(out, caffemodel, in)));
                }
            }
        }
        if (g != null && features()) {
            features(s, g, feeds, dir);
        }
        if (g != null && finetune()) {
            finetune(s, g, feeds, frozen, size, dir);
        }
    }

    // ---------------------------------------------------------------------------------------
    // features: graft's features up to a middle layer against the source's own format's oracle
    // run up to that layer (ONNX Runtime on the source with the layer's value exposed by the onnx
    // package, TensorFlow.js's model.getLayer(L).output, OpenCV dnn's forward(L)).

    static final String FEATURES = "features";

    void features(Source s, Graph g, Map<String, Tensor> feeds, Path dir) throws IOException {
        String row = s.label();
        if (feeds == null || feeds.size() != 1) {
            cell(row, FEATURES, feeds == null ? "n/a (no input size fits)" : "n/a (" + feeds.size() + " inputs)");
            return;
        }
        String layer = featureLayer(g);
        if (layer == null) {
            cell(row, FEATURES, "n/a (one layer)");
            return;
        }
        Tensor x = feeds.values().iterator().next();
        Path data = dir.resolve("features_in.npy");
        Npy.write(data, x.dtype(), x.shape(), x.data(), true);
        Path labels = dir.resolve("features_labels.npy");
        long[] zeros = new long[(int) x.shape()[0]];
        Npy.write(labels, graft.ir.DataType.INT64, new long[] {zeros.length}, longs(zeros), true);
        Path out = dir.resolve("features.npy");
        List<String> args = new ArrayList<>(List.of("features", s.file().toString(), data.toString(), "--labels", labels.toString(),
                "--upto", layer, "-o", out.toString()));
        args.addAll(s.readArgs());
        Cli.Result r = runAndCheckNoLeftover(row, FEATURES, dir, args);
        if (r == null) {
            return;
        }
        if (!Files.isRegularFile(out)) {
            violation(row, FEATURES, "exit 0 but no " + out.getFileName());
            cell(row, FEATURES, "WRONG");
            return;
        }
        Npy.Array a = Npy.read(out);
        Tensor got = new Tensor(a.dtype(), a.shape(), a.data());
        cell(row, FEATURES, "ok (graft; no oracle for this source)");
        Pending ref = new Pending(s.file(), s.weights(), List.of(x));
        String n = s.file().getFileName().toString();
        if (n.endsWith(".onnx")) {
            ref.layer = lastOutput(g, layer);
            ref.edited = dir.resolve("features_ref.onnx");
            onnxEdits.add(ref);
        } else if (n.endsWith(".h5")) {
            ref.layer = layer;
            tfjs.add(ref);
        } else if (s.weights() != null) {
            ref.layer = layer;
            opencv.add(ref);
        } else {
            return;
        }
        checks.add(new Check(row, FEATURES, ref, Pending.computed(got)));
    }

    /** Runs a command; on a non-zero exit records the refusal (exit 4 or a leftover is a violation) and returns null. */
    Cli.Result runAndCheckNoLeftover(String row, String column, Path dir, List<String> args) throws IOException {
        Set<String> before = listing(dir);
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        Set<String> after = listing(dir);
        after.removeAll(before);
        if (r.code() == 0) {
            return r;
        }
        String line = firstLine(r.err());
        cell(row, column, "refused (" + r.code() + ")");
        if (r.code() == 4) {
            violation(row, column, "exit 4 (graft's own bug): " + line);
        }
        if (!after.isEmpty()) {
            violation(row, column, "exit " + r.code() + " but left " + after + ": " + line);
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------
    // finetune --save-as: one seeded epoch on K seeded samples (one per class of the K-way head),
    // the first layer with weights frozen. The saved file, run by its format's oracle, must equal
    // what the training computed: the source (or, for Keras/Caffe sources, this audit's checked
    // convert -> onnx file) with the run's checkpoint tensors put in by the onnx package, run in
    // ONNX Runtime. The frozen layer's weights must read back bit-identical to the source's.

    static final List<Target> FINETUNE_TARGETS = List.of(
            new Target("onnx", ".onnx", List.of()), new Target("keras", ".h5", List.of()), new Target("caffe", ".prototxt", List.of()));
    /** Heads wider than this are not fine-tuned here (one sample per class). */
    static final int MAX_CLASSES = 20;

    void finetune(Source s, Graph g, Map<String, Tensor> feeds, String frozen, String size, Path dir) throws IOException {
        String row = s.label();
        String why = null;
        long classes = 0;
        if (feeds == null || feeds.size() != 1 || g.outputs().size() != 1) {
            why = "n/a (not one input and one output)";
        } else if (frozen == null) {
            why = "n/a (no weights)";
        } else {
            long[] shape = outputShape(g);
            if (shape == null) {
                try {
                    Graph h = Formats.forFile(s.file(), null).read(s.file(), Options.none().set("weights", s.weights()));
                    graft.ir.ShapeInference.run(h);
                    shape = outputShape(h);
                } catch (RuntimeException e) {
                    shape = null;
                }
            }
            if (shape == null || shape.length != 2 || shape[1] > MAX_CLASSES) {
                why = "n/a (output " + (shape == null ? "?" : java.util.Arrays.toString(shape)) + " is not a head of at most " + MAX_CLASSES + " classes)";
            } else {
                // one output: a binary head (sigmoid cross-entropy on 2 classes)
                classes = Math.max(2, shape[1]);
            }
        }
        if (why != null) {
            for (Target t : FINETUNE_TARGETS) {
                cell(row, "finetune -> " + t.name(), why);
            }
            return;
        }
        Tensor one = feeds.values().iterator().next();
        long[] shape = one.shape().clone();
        shape[0] = classes;
        Tensor x = Tensor.random(one.dtype(), shape, 11);
        Path data = dir.resolve("finetune_x.npy");
        Npy.write(data, x.dtype(), x.shape(), x.data(), true);
        long[] y = new long[(int) classes];
        for (int k = 0; k < y.length; k++) {
            y[k] = k;
        }
        Path labels = dir.resolve("finetune_y.npy");
        Npy.write(labels, graft.ir.DataType.INT64, new long[] {classes}, longs(y), true);
        Path asOnnx = s.file().getFileName().toString().endsWith(".onnx") ? s.file() : dir.resolve("convert_onnx.onnx");
        boolean asOnnxChecked = asOnnx == s.file() || String.valueOf(matrix.getOrDefault(row, Map.of()).get("convert -> onnx")).startsWith("ok ");
        for (Target t : FINETUNE_TARGETS) {
            String column = "finetune -> " + t.name();
            Path run = dir.resolve("finetune_" + t.name());
            Path out = run.resolve("model" + t.ext());
            List<String> args = new ArrayList<>(List.of("finetune", s.file().toString(), data.toString(), "--labels", labels.toString(),
                    "--epochs", "1", "--batch-size", String.valueOf(Math.max(1, classes / 2)), "--val-fraction", "0", "--seed", "3",
                    "--freeze-upto", frozen, "-o", run.toString(), "--save-as", out.toString()));
            args.addAll(s.readArgs());
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            if (r.code() != 0) {
                // no model may be left; a run that trained and was then refused by the writer keeps its
                // checkpoint and history (for --resume), one refused before training leaves no folder
                String line = firstLine(r.err());
                boolean trained = Files.isRegularFile(run.resolve("history.csv"));
                cell(row, column, "refused (" + r.code() + (trained ? ", after training; checkpoint kept" : "") + ")");
                if (r.code() == 4) {
                    violation(row, column, "exit 4 (graft's own bug): " + line);
                }
                if (Files.exists(out) || (Files.exists(run) && !trained)) {
                    violation(row, column, "exit " + r.code() + " but left " + (Files.exists(out) ? out.getFileName() : run.getFileName()) + ": " + line);
                }
                continue;
            }
            if (!Files.isRegularFile(out)) {
                violation(row, column, "exit 0 but no " + out.getFileName());
                cell(row, column, "WRONG");
                continue;
            }
            Path caffemodel = t.name().equals("caffe") ? out.resolveSibling(stem(out) + ".caffemodel") : null;
            Graph back;
            try {
                back = Formats.forFile(out, null).read(out, Options.none().set("weights", caffemodel));
            } catch (GraftException e) {
                violation(row, column, "graft cannot read back its own " + out.getFileName() + ": " + e.getMessage());
                cell(row, column, "WRONG");
                continue;
            }
            String again = back.layers().contains(frozen) ? frozen : firstLayerWithParameters(back);
            String moved = frozenMoved(g, frozen, back, again);
            if (moved != null) {
                violation(row, column, "frozen layer '" + frozen + "': " + moved);
                cell(row, column, "FROZEN CHANGED");
                continue;
            }
            cell(row, column, "ok (graft: frozen bit-identical; no reference)");
            Map<String, Path> tensors = checkpoint(run.resolve("checkpoint"));
            if (tensors == null || !asOnnxChecked || !Files.isRegularFile(asOnnx)) {
                continue;
            }
            List<Tensor> in;
            try {
                in = List.copyOf(Feeds.carryOver(feeds, g, back).values());
            } catch (GraftException e) {
                violation(row, column, "the saved model's inputs differ from the source's: " + e.getMessage());
                cell(row, column, "INPUTS CHANGED");
                continue;
            }
            Pending ref = new Pending(asOnnx, null, List.copyOf(feeds.values()));
            ref.tensors = tensors;
            ref.edited = run.resolve("reference.onnx");
            onnxEdits.add(ref);
            checks.add(new Check(row, column, ref, external(out, caffemodel, in)));
        }
    }

    /** The oracle of the file's own format: ONNX Runtime now; TensorFlow.js and OpenCV in one batch later. */
    Pending external(Path model, Path caffemodel, List<Tensor> inputs) {
        Pending p = new Pending(model, caffemodel, inputs);
        String n = model.getFileName().toString();
        if (n.endsWith(".onnx")) {
            ort(p, model);
        } else if (n.endsWith(".h5")) {
            tfjs.add(p);
        } else if (n.endsWith(".prototxt") && caffemodel != null) {
            opencv.add(p);
        } else {
            p.error = "no independent oracle for a net without weights";
        }
        return p;
    }

    static void ort(Pending p, Path model) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            Map<String, Tensor> feeds = new LinkedHashMap<>();
            List<String> names = new ArrayList<>(r.inputs().keySet());
            if (names.size() != p.inputs.size()) {
                p.error = "ONNX Runtime sees " + names.size() + " inputs";
                return;
            }
            for (int k = 0; k < names.size(); k++) {
                feeds.put(names.get(k), p.inputs.get(k));
            }
            p.outputs = List.copyOf(r.run(feeds).values());
        } catch (RuntimeException e) {
            p.error = "ONNX Runtime: " + firstLine(String.valueOf(e.getMessage()));
        }
    }

    void runExternalOracles(Path work) throws IOException {
        if (!onnxEdits.isEmpty() && Python.has("onnx")) {
            com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
            com.fasterxml.jackson.databind.node.ArrayNode jobs = om.createArrayNode();
            for (Pending p : onnxEdits) {
                com.fasterxml.jackson.databind.node.ObjectNode o = jobs.addObject();
                o.put("model", p.model.toAbsolutePath().toString());
                o.put("out", p.edited.toAbsolutePath().toString());
                if (p.layer != null) {
                    o.put("output", p.layer);
                }
                com.fasterxml.jackson.databind.node.ObjectNode ts = o.putObject("tensors");
                p.tensors.forEach((k, v) -> ts.put(k, v.toAbsolutePath().toString()));
            }
            Files.createDirectories(work);
            Path list = work.resolve("onnx_edits.json");
            Files.writeString(list, jobs.toString());
            Python.run(TestPaths.root().resolve("tests/oracle/onnx/edit_batch.py"), list.toString());
            for (Pending p : onnxEdits) {
                Path err = p.edited.resolveSibling(p.edited.getFileName() + ".error.txt");
                if (Files.exists(err)) {
                    p.error = "onnx: " + firstLine(Files.readString(err));
                } else {
                    ort(p, p.edited);
                }
            }
        } else {
            onnxEdits.forEach(p -> p.error = "onnx (Python) not installed");
        }
        if (!tfjs.isEmpty() && Files.isDirectory(TestPaths.root().resolve("tests/oracle/tfjs/node_modules/@tensorflow/tfjs"))) {
            List<String> errors = new ArrayList<>();
            List<List<Tensor>> outs = TfjsOracle.predict(
                    tfjs.stream().map(p -> new TfjsOracle.Job(p.model, null, p.inputs, p.layer)).toList(), work.resolve("tfjs"), errors);
            for (int k = 0; k < tfjs.size(); k++) {
                tfjs.get(k).outputs = outs.get(k);
                tfjs.get(k).error = errors.get(k) == null ? null : "TensorFlow.js: " + firstLine(errors.get(k));
            }
        } else {
            tfjs.forEach(p -> p.error = "TensorFlow.js not installed");
        }
        if (!opencv.isEmpty() && Python.has("cv2")) {
            Path d = work.resolve("opencv");
            Files.createDirectories(d);
            StringBuilder json = new StringBuilder("[");
            for (int k = 0; k < opencv.size(); k++) {
                Pending p = opencv.get(k);
                Path in = d.resolve("in" + k + ".npy");
                Tensor t = p.inputs.get(0);
                Npy.write(in, t.dtype(), t.shape(), t.data(), true);
                json.append(k == 0 ? "" : ",").append(String.format(Locale.ROOT,
                        "{\"prototxt\":\"%s\",\"caffemodel\":\"%s\",\"input\":[\"%s\"],\"out\":\"%s\"%s}",
                        p.model.toAbsolutePath(), p.caffemodel.toAbsolutePath(), in.toAbsolutePath(), d.resolve("out" + k + ".npy").toAbsolutePath(),
                        p.layer == null ? "" : ",\"layer\":\"" + p.layer + "\""));
            }
            Path jobs = d.resolve("jobs.json");
            Files.writeString(jobs, json.append("]").toString());
            Python.run(TestPaths.root().resolve("tests/oracle/opencv/forward_batch.py"), jobs.toString());
            for (int k = 0; k < opencv.size(); k++) {
                Pending p = opencv.get(k);
                Path out = d.resolve("out" + k + ".npy");
                Path err = d.resolve("out" + k + ".npy.error.txt");
                if (Files.exists(err)) {
                    p.error = "OpenCV: " + firstLine(Files.readString(err));
                } else {
                    Npy.Array a = Npy.read(out);
                    p.outputs = List.of(new Tensor(a.dtype(), a.shape(), a.data()));
                }
            }
        } else {
            opencv.forEach(p -> p.error = "OpenCV not installed");
        }
    }

    void judge(Check c) {
        String why = c.reference().error != null ? c.reference().error : c.converted().error;
        if (why != null) {
            cell(c.row(), c.column(), "ok (graft; " + why.replaceAll("\\|", "/") + ")");
            return;
        }
        List<Tensor> ref = c.reference().outputs;
        List<Tensor> got = c.converted().outputs;
        if (ref.size() != got.size()) {
            violation(c.row(), c.column(), "the oracles see " + ref.size() + " outputs in the source and " + got.size() + " in the written model");
            cell(c.row(), c.column(), "WRONG");
            return;
        }
        double worst = 0;
        for (int k = 0; k < ref.size(); k++) {
            // features are a file the user trains on: its layout must be the oracle's own, never looked through
            worst = Math.max(worst, c.column().equals(FEATURES) ? exactError(got.get(k), ref.get(k)) : error(got.get(k), ref.get(k)));
        }
        for (int k = 0; k < ref.size(); k++) {
            if (c.column().equals(FEATURES) && !java.util.Arrays.equals(got.get(k).shape(), ref.get(k).shape())) {
                violation(c.row(), c.column(), "graft's features have shape " + java.util.Arrays.toString(got.get(k).shape())
                        + ", the oracle's layer output " + java.util.Arrays.toString(ref.get(k).shape()));
                cell(c.row(), c.column(), "WRONG (layout)");
                return;
            }
        }
        if (!(worst <= TOLERANCE)) {
            violation(c.row(), c.column(), String.format(Locale.ROOT, "independent oracles differ by %.3g (tolerance %.0e)", worst, TOLERANCE));
            cell(c.row(), c.column(), String.format(Locale.ROOT, "WRONG %.1e", worst));
            return;
        }
        cell(c.row(), c.column(), String.format(Locale.ROOT, "ok %.0e", Math.max(worst, 1e-9)));
    }

    void cell(String row, String column, String verdict) {
        matrix.computeIfAbsent(row, k -> new LinkedHashMap<>()).put(column, verdict);
    }

    void violation(String row, String column, String what) {
        String where = KNOWN.get(row + " | " + column);
        if (where != null) {
            known.add(row + " | " + column + " | " + what + " (KNOWN: " + where + ")");
            return;
        }
        violations.add(row + " | " + column + " | " + what);
    }

    String table() {
        List<String> columns = new ArrayList<>();
        for (String command : commands()) {
            for (Target t : targets()) {
                if (!(command.equals("surgery") && t.name().startsWith("onnx@"))) {
                    columns.add(command + " -> " + t.name());
                }
            }
        }
        if (finetune()) {
            FINETUNE_TARGETS.forEach(t -> columns.add("finetune -> " + t.name()));
        }
        if (features()) {
            columns.add(FEATURES);
        }
        StringBuilder b = new StringBuilder("| source | " + String.join(" | ", columns) + " |\n|---|");
        columns.forEach(c -> b.append("---|"));
        b.append('\n');
        matrix.forEach((row, cells) -> {
            b.append("| ").append(row).append(" |");
            for (String c : columns) {
                b.append(' ').append(cells.getOrDefault(c, "")).append(" |");
            }
            b.append('\n');
        });
        b.append("\nViolations: ").append(violations.size()).append('\n');
        violations.forEach(v -> b.append("- ").append(v).append('\n'));
        b.append("\nKnown (fixed elsewhere, not failed): ").append(known.size()).append('\n');
        known.forEach(v -> b.append("- ").append(v).append('\n'));
        return b.toString();
    }

    String summary() {
        Map<String, Long> counts = matrix.values().stream().flatMap(m -> m.values().stream())
                .map(v -> v.startsWith("ok (graft") ? "ok (graft only)" : v.startsWith("ok") ? "ok (independent oracles)"
                        : v.startsWith("refused") ? "refused" : v.startsWith("n/a") || v.isEmpty() ? "n/a" : "WRONG")
                .collect(Collectors.groupingBy(v -> v, java.util.TreeMap::new, Collectors.counting()));
        return "silent-output audit: " + matrix.size() + " sources, " + counts + ", " + violations.size() + " violations\n"
                + String.join("\n", violations) + (known.isEmpty() ? "" : "\nknown: " + String.join("\nknown: ", known));
    }
}
