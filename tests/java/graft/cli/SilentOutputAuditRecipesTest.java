package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.GraftException;
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
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The silent-output audit for every shipped recipe ({@code recipes/}) and the README's surgery
 * example (issue #25: "every shipped recipe and README example must run on the Keras VGG16
 * {@code .h5} as well as the ONNX one"), each written to ONNX and to Keras {@code .h5}, on:
 * the keras.applications VGG16 topology in Keras 2 {@code .h5} layout (reduced width,
 * fixtures/keras/make_vgg16_keras.py, seeded), graft's ONNX of that same file, the bundled
 * {@code vgg16_mini.onnx} and, for the CaffeNet recipe, {@code caffenet_mini.onnx}.
 *
 * <p>Each cell checks: a refusal is exit 2/3 with no file left (exit 4 fails); exit 0 means the
 * written {@code .onnx} run by ONNX Runtime and the written {@code .h5} run by TensorFlow.js agree
 * within 1e-4 of the output's magnitude on the same seeded input. Across sources: a recipe that
 * runs on graft's ONNX of the Keras file must run on the Keras file too, give the same output
 * (ONNX Runtime on both results, same input, within 1e-4: the recipes seed their new weights)
 * and freeze the same layers. The matrix is written to {@code target/audit/matrix-recipes.md}.
 */
class SilentOutputAuditRecipesTest {
    static final double TOLERANCE = SilentOutputAuditTest.TOLERANCE;

    record Recipe(String name, List<String> args) {
    }

    record Result(Path onnx, Path h5, List<Tensor> ortOut, List<Tensor> tfjsOut, Map<String, Tensor> feeds, Set<String> frozen) {
    }

    final Map<String, Map<String, String>> matrix = new LinkedHashMap<>();
    final List<String> violations = new ArrayList<>();

    static List<Recipe> recipes() throws IOException {
        List<Recipe> r = new ArrayList<>();
        try (Stream<Path> s = Files.list(TestPaths.root().resolve("recipes"))) {
            for (Path p : s.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
                r.add(new Recipe(p.getFileName().toString(), List.of("--recipe", p.toString())));
            }
        }
        // README "Surgery": graft surgery vgg16_mini.onnx --edit "pop 3" --edit "attach-head dense 256 relu, dense 5 softmax" -o out.onnx
        r.add(new Recipe("README: pop 3 + attach-head dense 256 relu, dense 5 softmax",
                List.of("--edit", "pop 3", "--edit", "attach-head dense 256 relu, dense 5 softmax")));
        return r;
    }

    @Test
    void everyRecipeOnTheKerasH5AndTheOnnxModelsIsRightOrRefused() throws IOException {
        Path scratch = TestPaths.scratch("silent-output-audit-recipes");
        Path h5 = scratch.resolve("vgg16_small.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_vgg16_keras.py"), h5.toString(), "--width-div", "16", "--fc", "64",
                "--classes", "10", "--seed", "16");
        Path h5Onnx = scratch.resolve("vgg16_small_from_h5.onnx");
        Cli.Result c = Cli.run("convert", h5.toString(), h5Onnx.toString());
        assertThat(c.code()).as(c.err()).isZero();
        Map<String, Path> sources = new LinkedHashMap<>();
        sources.put("Keras VGG16 .h5 (make_vgg16_keras.py, width/16)", h5);
        sources.put("graft's ONNX of that .h5", h5Onnx);
        sources.put("fixtures/surgery/vgg16_mini.onnx", TestPaths.fixtures().resolve("surgery/vgg16_mini.onnx"));
        sources.put("fixtures/surgery/caffenet_mini.onnx", TestPaths.fixtures().resolve("surgery/caffenet_mini.onnx"));
        TfjsOracle.assumeInstalled();
        List<Recipe> recipes = recipes();
        Map<String, Map<String, Result>> results = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Path> src : sources.entrySet()) {
            for (Recipe r : recipes) {
                Path dir = Files.createDirectories(scratch.resolve(String.format(Locale.ROOT, "%02d", i++)));
                Result res = run(src.getKey(), src.getValue(), r, dir);
                if (res != null) {
                    results.computeIfAbsent(src.getKey(), k -> new LinkedHashMap<>()).put(r.name(), res);
                }
            }
        }
        // the same recipe on the Keras file and on graft's ONNX of it
        String kerasRow = "Keras VGG16 .h5 (make_vgg16_keras.py, width/16)";
        String onnxRow = "graft's ONNX of that .h5";
        for (Recipe r : recipes) {
            String ok = matrix.getOrDefault(onnxRow, Map.of()).getOrDefault(r.name(), "");
            String kr = matrix.getOrDefault(kerasRow, Map.of()).getOrDefault(r.name(), "");
            if (ok.startsWith("ok") && !kr.startsWith("ok")) {
                violation(kerasRow, r.name(), "runs on graft's ONNX of the .h5 but not on the .h5 itself: " + kr);
            }
            Result a = results.getOrDefault(kerasRow, Map.of()).get(r.name());
            Result b = results.getOrDefault(onnxRow, Map.of()).get(r.name());
            if (a == null || b == null || a.ortOut() == null || b.onnx() == null) {
                continue;
            }
            if (!a.frozen().equals(b.frozen())) {
                violation(kerasRow, r.name(), "frozen layers " + a.frozen() + " on the .h5 but " + b.frozen() + " on its ONNX");
                cell(kerasRow, r.name(), "FREEZE DIFFERS");
                continue;
            }
            List<Tensor> other = ort(b.onnx(), a.feeds());
            double e = AuditTools.error(other.get(0), a.ortOut().get(0));
            if (!(e <= TOLERANCE)) {
                violation(kerasRow, r.name(), String.format(Locale.ROOT,
                        "the recipe on the .h5 and on its ONNX gives different models: ONNX Runtime differs by %.3g", e));
                cell(kerasRow, r.name(), String.format(Locale.ROOT, "WRONG %.1e vs ONNX source", e));
            } else {
                cell(kerasRow, r.name(), matrix.get(kerasRow).get(r.name()) + String.format(Locale.ROOT, ", = ONNX source %.0e", Math.max(e, 1e-9)));
            }
        }
        Path report = TestPaths.root().resolve("target/audit/matrix-recipes.md");
        Files.createDirectories(report.getParent());
        Files.writeString(report, table(recipes));
        System.out.println(Files.readString(report));
        assertThat(violations).as("silent-output violations (matrix in " + report + ")").isEmpty();
    }

    Result run(String row, Path source, Recipe recipe, Path dir) throws IOException {
        Path onnx = null;
        Path h5 = null;
        List<String> refused = new ArrayList<>();
        for (String ext : List.of(".onnx", ".h5")) {
            Path out = dir.resolve("out" + ext);
            List<String> args = new ArrayList<>(List.of("surgery", source.toString()));
            args.addAll(recipe.args());
            args.addAll(List.of("-o", out.toString()));
            Set<String> before = AuditTools.listing(dir);
            Cli.Result r = Cli.run(args.toArray(String[]::new));
            Set<String> after = AuditTools.listing(dir);
            after.removeAll(before);
            String line = AuditTools.firstLine(r.err());
            if (r.code() != 0) {
                refused.add(ext + " refused (" + r.code() + ": " + line.replace('|', '/') + ")");
                if (r.code() == 4) {
                    violation(row, recipe.name(), "exit 4 writing " + ext + ": " + line);
                }
                if (!after.isEmpty()) {
                    violation(row, recipe.name(), "exit " + r.code() + " but left " + after + ": " + line);
                }
                continue;
            }
            if (!Files.isRegularFile(out)) {
                violation(row, recipe.name(), "exit 0 but no " + out.getFileName());
                continue;
            }
            if (ext.equals(".onnx")) {
                onnx = out;
            } else {
                h5 = out;
            }
        }
        if (onnx == null && h5 == null) {
            cell(row, recipe.name(), String.join("; ", refused));
            return null;
        }
        Path any = onnx != null ? onnx : h5;
        Graph g;
        Map<String, Tensor> feeds = null;
        try {
            g = Formats.forFile(any, null).read(any, Options.none());
            for (long hw : new long[] {224, 227, 160}) {
                try {
                    feeds = Feeds.make(g, Map.of(), 7, new Feeds.Sizes(1, new long[] {hw, hw}));
                    Feeds.checkFits(g, feeds, null);
                    break;
                } catch (GraftException e) {
                    feeds = null;
                }
            }
        } catch (GraftException e) {
            violation(row, recipe.name(), "graft cannot read back " + any.getFileName() + ": " + e.getMessage());
            cell(row, recipe.name(), "WRONG (unreadable)");
            return null;
        }
        if (feeds == null) {
            violation(row, recipe.name(), "no input size fits the written model");
            cell(row, recipe.name(), "WRONG (no input fits)");
            return null;
        }
        Set<String> frozen = new TreeSet<>();
        for (String l : g.layers()) {
            if (l != null && !g.trainingOf(l).trainable()) {
                frozen.add(l);
            }
        }
        List<Tensor> ortOut = onnx == null ? null : ort(onnx, feeds);
        List<Tensor> tfjsOut = null;
        String tfjsError = null;
        if (h5 != null) {
            Graph back = Formats.forFile(h5, null).read(h5, Options.none());
            Map<String, Tensor> in = Feeds.carryOver(feeds, back);
            List<String> errors = new ArrayList<>();
            tfjsOut = TfjsOracle.predict(List.of(new TfjsOracle.Job(h5, null, List.copyOf(in.values()))), dir.resolve("tfjs"), errors).get(0);
            tfjsError = errors.get(0);
        }
        String verdict;
        if (ortOut != null && tfjsOut != null) {
            double e = AuditTools.error(tfjsOut.get(0), ortOut.get(0));
            if (!(e <= TOLERANCE)) {
                violation(row, recipe.name(), String.format(Locale.ROOT, "TensorFlow.js on out.h5 and ONNX Runtime on out.onnx differ by %.3g", e));
                verdict = String.format(Locale.ROOT, "WRONG %.1e", e);
            } else {
                verdict = String.format(Locale.ROOT, "ok %.0e (ORT .onnx = TF.js .h5)", Math.max(e, 1e-9));
            }
        } else if (ortOut != null) {
            verdict = "ok (ORT .onnx" + (tfjsError != null ? "; TF.js: " + AuditTools.firstLine(tfjsError).replace('|', '/') : "") + ")";
        } else {
            verdict = tfjsOut != null ? "ok (TF.js .h5 runs)" : "WRONG (TF.js: " + tfjsError + ")";
            if (tfjsOut == null) {
                violation(row, recipe.name(), "TensorFlow.js cannot run out.h5: " + tfjsError);
            }
        }
        if (!refused.isEmpty()) {
            verdict += "; " + String.join("; ", refused);
        }
        cell(row, recipe.name(), verdict + ", " + frozen.size() + " frozen");
        return new Result(onnx, h5, ortOut, tfjsOut, feeds, frozen);
    }

    static List<Tensor> ort(Path model, Map<String, Tensor> feeds) {
        try (OrtRunner r = OrtRunner.open(model, Device.CPU)) {
            Map<String, Tensor> in = new LinkedHashMap<>();
            List<String> names = new ArrayList<>(r.inputs().keySet());
            List<Tensor> values = List.copyOf(feeds.values());
            for (int k = 0; k < names.size(); k++) {
                in.put(names.get(k), values.get(k));
            }
            return List.copyOf(r.run(in).values());
        }
    }

    void cell(String row, String column, String verdict) {
        matrix.computeIfAbsent(row, k -> new LinkedHashMap<>()).put(column, verdict);
    }

    void violation(String row, String column, String what) {
        violations.add(row + " | " + column + " | " + what);
    }

    String table(List<Recipe> recipes) {
        StringBuilder b = new StringBuilder("| source | recipe | result (written to .onnx and .h5) |\n|---|---|---|\n");
        matrix.forEach((row, cells) -> {
            for (Recipe r : recipes) {
                b.append("| ").append(row).append(" | ").append(r.name()).append(" | ").append(cells.getOrDefault(r.name(), "")).append(" |\n");
            }
        });
        b.append("\nViolations: ").append(violations.size()).append('\n');
        violations.forEach(v -> b.append("- ").append(v).append('\n'));
        return b.toString();
    }
}
