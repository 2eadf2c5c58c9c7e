package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.ir.Dim;
import graft.ir.Graph;
import graft.ir.Shape;
import graft.ir.Tensor;
import graft.ir.Value;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every Keras file of the shared corpus through {@code graft convert} to ONNX, run in ONNX
 * Runtime, and compared with the outputs Keras itself saved where the corpus ships them
 * (fullconfigs/cnn predictions.npy, examples/activations inputs_and_outputs.h5), with
 * TensorFlow.js otherwise, and with a numpy correlation for the Keras 1 files TensorFlow.js
 * rejects. Tolerance: 1e-5 relative to the output's magnitude. Writes the README table to
 * target/keras-corpus-table.md.
 */
public class KerasCorpusTest {
    static final double TOLERANCE = 1e-5;
    public static final Path CORPUS = TestPaths.corpus().resolve("keras");

    /** A corpus case: the file, its --config (weights-only files), and where its reference comes from. */
    public record Case(Path model, Path config, String name) {
    }

    public static List<Case> cases() throws IOException {
        List<Case> r = new ArrayList<>();
        try (Stream<Path> s = Files.walk(CORPUS)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String n = p.getFileName().toString();
                if (!n.endsWith(".h5") || n.endsWith("_inputs_and_outputs.h5")) {
                    continue;
                }
                Path cfg = null;
                if (n.endsWith("_weights.h5")) {
                    Path c = p.resolveSibling(n.replace("_weights.h5", "_config.json"));
                    cfg = Files.exists(c) ? c : null;
                }
                r.add(new Case(p, cfg, CORPUS.relativize(p).toString()));
            }
        }
        return r;
    }

    @Test
    void everyCorpusFileConvertsAndMatchesItsOracleOrIsRefusedWithAllItsLayers() throws IOException {
        TestPaths.assumeExists(CORPUS, "the shared Keras corpus");
        Path scratch = TestPaths.scratch("keras-corpus");
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThan(30);
        Map<Case, String> outcome = new LinkedHashMap<>();
        Map<Case, Path> onnx = new LinkedHashMap<>();
        Map<Case, List<Tensor>> inputs = new LinkedHashMap<>();
        Map<Case, List<Tensor>> reference = new LinkedHashMap<>();
        Map<Case, String> oracle = new LinkedHashMap<>();
        List<TfjsOracle.Job> jobs = new ArrayList<>();
        List<Case> jobCases = new ArrayList<>();
        for (Case c : cases) {
            Path out = scratch.resolve(c.name().replace('/', '_') + ".onnx");
            List<String> args = new ArrayList<>(List.of("convert", c.model().toString(), out.toString()));
            if (c.config() != null) {
                args.addAll(List.of("--config", c.config().toString()));
            }
            Cli.Result res = Cli.run(args.toArray(String[]::new));
            if (res.code() != 0) {
                assertThat(res.code()).as(c.name() + ": " + res.err()).isEqualTo(3);
                assertThat(res.err().strip()).as(c.name()).doesNotContain("\n").doesNotContain("Exception").doesNotContain("\tat ");
                assertThat(out).doesNotExist();
                outcome.put(c, "refused: " + res.err().strip().replace(c.model().toString(), c.name()));
                continue;
            }
            onnx.put(c, out);
            Graph g = new KerasFormat().read(c.model(), graft.io.Options.none().set("config", c.config()));
            List<Tensor> in = new ArrayList<>();
            String name = c.model().getFileName().toString();
            if (c.name().startsWith("fullconfigs/cnn/")) {
                in.add(toFloat(Npy.read(c.model().resolveSibling("input.npy"))));
                reference.put(c, List.of(toFloat(Npy.read(c.model().resolveSibling("predictions.npy")))));
                oracle.put(c, "Keras 2.1.3's predictions.npy");
            } else if (c.name().startsWith("examples/activations/")) {
                Path io = c.model().resolveSibling(name.replaceAll("_(model|weights)\\.h5$", "_inputs_and_outputs.h5"));
                try (HdfFile h = new HdfFile(io)) {
                    in.add(dataset(h, "inputs"));
                    reference.put(c, List.of(dataset(h, "predictions")));
                }
                oracle.put(c, "Keras 2.3.1's saved predictions");
            } else {
                int k = 0;
                for (Value v : g.inputs()) {
                    in.add(Tensor.random(graft.ir.DataType.FLOAT, concrete(g.type(v.name()).shape()), 42 + k++));
                }
                if (usesLocallyConnected(c.model())) {
                    reference.put(c, List.of(numpyOracle("locally_connected_oracle.py", c.model(), in.get(0), scratch, name)));
                    oracle.put(c, "numpy evaluation of Keras's local_conv (TensorFlow.js has no LocallyConnected2D)");
                } else if (g.metadata().getOrDefault("source.keras_version", "").startsWith("1.")) {
                    reference.put(c, List.of(numpyOracle("keras1_conv_oracle.py", c.model(), in.get(0), scratch, name)));
                    oracle.put(c, g.metadata().getOrDefault("source.backend", "").startsWith("theano")
                            ? "numpy true convolution, as Theano computed it (TensorFlow.js rejects Keras 1 names)"
                            : "numpy correlation (TensorFlow.js rejects Keras 1 names)");
                } else {
                    jobs.add(new TfjsOracle.Job(c.model(), c.config(), in));
                    jobCases.add(c);
                    oracle.put(c, "TensorFlow.js 4.22");
                }
            }
            inputs.put(c, in);
        }
        List<String> errors = new ArrayList<>();
        List<List<Tensor>> tfjs = TfjsOracle.predict(jobs, scratch.resolve("tfjs"), errors);
        List<String> oracleFailures = new ArrayList<>();
        for (int i = 0; i < jobCases.size(); i++) {
            if (errors.get(i) != null) {
                oracleFailures.add(jobCases.get(i).name() + ": " + errors.get(i).lines().findFirst().orElse(""));
            }
            reference.put(jobCases.get(i), tfjs.get(i));
        }
        assertThat(oracleFailures).as("TensorFlow.js could not run").isEmpty();
        List<String> mismatches = new ArrayList<>();
        for (var e : onnx.entrySet()) {
            Case c = e.getKey();
            List<Tensor> ref = reference.get(c);
            try (OrtRunner r = OrtRunner.open(e.getValue(), Device.CPU)) {
                List<String> names = new ArrayList<>(r.inputs().keySet());
                List<Tensor> got = new ArrayList<>(r.run(TfjsOracle.feeds(names, inputs.get(c))).values());
                double worst = got.size() == ref.size() ? 0 : Double.POSITIVE_INFINITY;
                for (int k = 0; k < Math.min(got.size(), ref.size()); k++) {
                    worst = !java.util.Arrays.equals(got.get(k).shape(), ref.get(k).shape()) ? Double.POSITIVE_INFINITY
                            : Math.max(worst, TfjsOracle.relError(got.get(k), ref.get(k)));
                }
                if (!(worst <= TOLERANCE)) {
                    mismatches.add(c.name() + " vs " + oracle.get(c) + ": " + worst + " shapes " + got.stream().map(Tensor::toString).toList()
                            + " / " + ref.stream().map(Tensor::toString).toList());
                }
                outcome.put(c, String.format(java.util.Locale.ROOT, "converts; matches %s, max error %.1e relative", oracle.get(c), worst));
            }
        }
        assertThat(mismatches).as("outputs beyond " + TOLERANCE + " relative").isEmpty();
        StringBuilder table = new StringBuilder("| file | result |\n|---|---|\n");
        for (Case c : cases) {
            table.append("| `").append(c.name()).append(c.config() != null ? "` + `" + c.config().getFileName() : "").append("` | ")
                    .append(outcome.get(c).replace("|", "\\|")).append(" |\n");
        }
        Files.writeString(TestPaths.root().resolve("target/keras-corpus-table.md"), table.toString());
        System.out.println(table);
        // Every file of the corpus converts (the four LocallyConnected2D models included).
        assertThat(outcome.values().stream().filter(s -> s.startsWith("refused")).toList()).isEmpty();
        assertThat(oracle.values()).filteredOn(o -> o.contains("local_conv")).hasSize(4);
    }

    /**
     * The output of a numpy oracle script of fixtures/keras ({@code SCRIPT MODEL INPUT.npy
     * OUTPUT.npy}) for input {@code x}, by way of {@code dir/tag.input.npy} and {@code dir/tag.numpy.npy}.
     */
    public static Tensor numpyOracle(String script, Path model, Tensor x, Path dir, String tag) {
        Path in = dir.resolve(tag + ".input.npy");
        Path out = dir.resolve(tag + ".numpy.npy");
        Npy.write(in, x.dtype(), x.shape(), x.data(), true);
        Python.run(TestPaths.fixtures().resolve("keras/" + script), model.toString(), in.toString(), out.toString());
        return toFloat(Npy.read(out));
    }

    /** Whether the file's model_config has a LocallyConnected2D layer (TensorFlow.js cannot run those). */
    static boolean usesLocallyConnected(Path model) {
        if (!model.getFileName().toString().endsWith(".h5")) {
            return false;
        }
        try (HdfFile h = new HdfFile(model)) {
            var a = h.getAttribute("model_config");
            return a != null && String.valueOf(a.getData()).contains("\"LocallyConnected2D\"");
        }
    }

    public static long[] concrete(Shape s) {
        long[] r = new long[s.rank()];
        for (int i = 0; i < r.length; i++) {
            Dim d = s.dim(i);
            r[i] = d.isFixed() ? d.value() : i == 0 ? 2 : 16;
        }
        return r;
    }

    static Tensor toFloat(Npy.Array a) {
        float[] f = a.toFloats();
        return Tensor.ofFloats(a.shape(), f);
    }

    /** The one dataset of an inputs/ or predictions/ group of an inputs_and_outputs.h5 file. */
    static Tensor dataset(HdfFile h, String group) {
        io.jhdf.api.Group g = (io.jhdf.api.Group) h.getChild(group);
        io.jhdf.api.Dataset d = (io.jhdf.api.Dataset) g.getChildren().values().iterator().next();
        float[] flat = (float[]) d.getDataFlat();
        int[] dims = d.getDimensions();
        long[] shape = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            shape[i] = dims[i];
        }
        ByteBuffer b = ByteBuffer.allocateDirect(flat.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(flat);
        return new Tensor(graft.ir.DataType.FLOAT, shape, b);
    }
}
