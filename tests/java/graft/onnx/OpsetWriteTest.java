package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.error.UnsupportedModelException;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Tensor;
import graft.onnx.proto.Onnx.ModelProto;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every opset graft writes (7 to 21), op by op: each ONNX backend node case of Debian's
 * libonnx-testdata that graft reads, and each ONNX fixture, is written at every opset and must
 * then load in ONNX Runtime (in-process), compute what ONNX Runtime computes with the original
 * file (within 1e-5 + 1e-4 relative), and pass
 * {@code onnx.checker.check_model(full_check=True)} plus a node-by-node check against the
 * installed onnx's {@code get_schema(op, opset)} (fixtures/onnx/check_onnx.py; that onnx knows
 * opsets up to 17, so 18..21 rest on ONNX Runtime's own schema checks) - or be refused with an
 * error that names the offending node.
 */
class OpsetWriteTest {
    static final Path NODE = Path.of("/usr/share/libonnx-testdata/data/node");
    static final int[] OPSETS = {7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};

    /** What happened to one model at one opset. */
    record Outcome(List<String> written, List<String> refused, List<String> failed, List<String> noKernel) {
        Outcome() {
            this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }
    }

    /**
     * Writes {@code g} at {@code opset} into {@code out}: a refusal must name a node of {@code g};
     * a written file must load in ONNX Runtime and, with {@code feeds}, give {@code expected}.
     */
    static void writeAndLoad(Graph g, Path source, Path out, int opset, Map<String, Tensor> feeds, List<Tensor> expected,
                             List<String> outputNames, Outcome o, String label) {
        try {
            OnnxExporter.write(g, out, new OnnxExporter.Settings(opset, OnnxExporter.ExternalData.NEVER, true, List.of(source)));
        } catch (UnsupportedModelException e) {
            Set<String> names = new HashSet<>();
            for (Node n : g.nodes()) {
                names.add(n.name());
            }
            boolean named = !e.offenders().isEmpty() && e.offenders().stream().allMatch(p -> names.stream().anyMatch(
                    nm -> p.contains("'" + nm + "'"))) && e.getMessage().contains("opset");
            if (named) {
                o.refused().add(label + ": " + e.getMessage());
            } else {
                o.failed().add(label + ": refusal does not name a node: " + e.getMessage());
            }
            return;
        } catch (RuntimeException e) {
            o.failed().add(label + ": write threw " + e);
            return;
        }
        try (OrtRunner r = OrtRunner.open(out, Device.CPU)) {
            if (feeds != null) {
                Map<String, Tensor> got = r.run(feeds);
                List<Tensor> actual = new ArrayList<>(got.values());
                for (int i = 0; i < expected.size(); i++) {
                    String name = outputNames.get(i);
                    Tensor a = got.containsKey(name) ? got.get(name) : actual.get(i);
                    double ex = OnnxTestData.excess(a, expected.get(i), 1e-5, 1e-4);
                    if (ex != 0) {
                        o.failed().add(label + ": output " + i + (ex < 0 ? " shape/type " + a + " vs " + expected.get(i) : " off by " + ex));
                        return;
                    }
                }
            }
            o.written().add(out.toString());
        } catch (RuntimeException e) {
            String m = String.valueOf(e.getMessage()).replace('\n', ' ');
            if (m.contains("ORT_NOT_IMPLEMENTED") && m.contains("Could not find an implementation")) {
                // A valid model for which this ONNX Runtime build has no kernel (the checker still judges the file).
                o.written().add(out.toString());
                o.noKernel().add(label + ": " + m.substring(m.indexOf("Could not find")));
            } else {
                o.failed().add(label + ": ONNX Runtime: " + m);
            }
        }
    }

    /** Runs fixtures/onnx/check_onnx.py over all files at once; returns the failures. */
    static List<String> checker(List<String> files, Path dir) throws IOException {
        if (!Python.has("onnx") || files.isEmpty()) {
            return List.of();
        }
        Path list = dir.resolve("files.txt");
        Files.write(list, files);
        String out = Python.run(TestPaths.fixtures().resolve("onnx/check_onnx.py"), list.toString());
        List<String> bad = new ArrayList<>();
        long ok = 0;
        for (String l : out.lines().toList()) {
            if (l.startsWith("FAIL")) {
                bad.add(l);
            } else if (l.startsWith("OK")) {
                ok++;
            }
        }
        assertThat(ok + bad.size() + out.lines().filter(l -> l.startsWith("SKIP")).count()).isEqualTo(files.size());
        return bad;
    }

    @Test
    void everyNodeCaseAtEveryOpsetLoadsAndChecksOrIsRefusedByNodeName() throws IOException {
        TestPaths.assumeExists(NODE, "Debian libonnx-testdata");
        Path scratch = TestPaths.scratch("opset-node-cases");
        List<Path> cases;
        try (Stream<Path> s = Files.list(NODE)) {
            cases = s.filter(p -> Files.exists(p.resolve("model.onnx"))).sorted().toList();
        }
        Outcome o = new Outcome();
        Map<Integer, int[]> perOpset = new TreeMap<>();
        int unreadable = 0;
        int ortCannot = 0;
        for (Path c : cases) {
            String name = c.getFileName().toString();
            Path model = c.resolve("model.onnx");
            ModelProto mp = ModelProto.parseFrom(Files.readAllBytes(model));
            if (mp.getGraph().getInputList().stream().anyMatch(v -> !v.getType().hasTensorType())
                    || mp.getGraph().getOutputList().stream().anyMatch(v -> !v.getType().hasTensorType())) {
                unreadable++;
                continue;
            }
            Graph g;
            try {
                g = OnnxImporter.read(model);
            } catch (RuntimeException e) {
                unreadable++;
                continue;
            }
            OnnxTestData.DataSet ds = OnnxTestData.dataSet(c.resolve("test_data_set_0"));
            if (ds == null) {
                unreadable++; // string tensors: graft's test-data reader holds numbers only
                continue;
            }
            Map<String, Tensor> feeds = ds.feeds();
            List<Tensor> expected = ds.expected();
            // The reference is what ONNX Runtime computes with the original file: the written one must compute the same.
            try (OrtRunner original = OrtRunner.open(model, Device.CPU)) {
                Map<String, Tensor> ref = original.run(feeds);
                expected.clear();
                for (String out : mp.getGraph().getOutputList().stream().map(v -> v.getName()).toList()) {
                    expected.add(ref.get(out));
                }
            } catch (RuntimeException e) {
                ortCannot++;
                continue;
            }
            // Random draws (dropout masks, random ops) cannot be reproduced: load only.
            boolean random = name.contains("dropout") || name.contains("random") || name.contains("bernoulli");
            List<String> outs = mp.getGraph().getOutputList().stream().map(v -> v.getName()).toList();
            for (int opset : OPSETS) {
                int before = o.written().size();
                int refusedBefore = o.refused().size();
                writeAndLoad(g, model, scratch.resolve(name + "_" + opset + ".onnx"), opset, random ? null : feeds, expected, outs, o,
                        name + " @" + opset);
                int[] k = perOpset.computeIfAbsent(opset, x -> new int[2]);
                k[0] += o.written().size() - before;
                k[1] += o.refused().size() - refusedBefore;
            }
        }
        List<String> checked = checker(o.written(), scratch);
        StringBuilder per = new StringBuilder();
        perOpset.forEach((k, v) -> per.append(k).append(": ").append(v[0]).append(" written, ").append(v[1]).append(" refused; "));
        String report = "node cases: " + cases.size() + " (" + unreadable + " graft does not read, " + ortCannot
                + " ONNX Runtime cannot run in their original form); " + per + "failures " + o.failed().size() + ", checker failures "
                + checked.size() + "; valid but without an ONNX Runtime kernel: " + o.noKernel();
        System.out.println(report);
        Files.writeString(TestPaths.root().resolve("target/opset-node-cases-report.txt"), report + "\n\nFAILED\n"
                + String.join("\n", o.failed()) + "\n\nCHECKER\n" + String.join("\n", checked) + "\n\nREFUSED\n"
                + String.join("\n", o.refused()) + "\n");
        assertThat(o.failed()).as(report).isEmpty();
        assertThat(checked).as(report).isEmpty();
        assertThat(o.written().size()).isGreaterThan(3000);
    }

    @Test
    void fixturesAtEveryOpsetLoadAndCheckOrAreRefusedByNodeName() throws IOException {
        Path scratch = TestPaths.scratch("opset-fixtures");
        List<Path> models = new ArrayList<>(List.of(TestPaths.fixtures().resolve("onnx/small_vgg.onnx")));
        for (String n : List.of("light/light_vgg19", "light/light_squeezenet", "light/light_resnet50", "light/light_inception_v1",
                "output_cnn_mnist")) {
            Path p = TestPaths.corpus().resolve("onnx/" + n + ".onnx");
            if (Files.exists(p)) {
                models.add(p);
            }
        }
        Outcome o = new Outcome();
        for (Path m : models) {
            Graph g = OnnxImporter.read(m);
            String stem = OnnxImporter.stem(m);
            for (int opset : OPSETS) {
                writeAndLoad(g, m, scratch.resolve(stem + "_" + opset + ".onnx"), opset, null, List.of(), List.of(), o, stem + " @" + opset);
            }
        }
        List<String> checked = checker(o.written(), scratch);
        assertThat(o.failed()).isEmpty();
        assertThat(checked).isEmpty();
        assertThat(o.written().size() + o.refused().size()).isEqualTo(models.size() * OPSETS.length);
    }

    @Test
    void schemaTableIsTheInstalledOnnxsOwn() throws IOException {
        if (!Python.has("onnx")) {
            return;
        }
        Path dir = TestPaths.scratch("opset-schemas");
        Path script = dir.resolve("dump.py");
        Files.writeString(script, String.join("\n",
                "import onnx.defs as d",
                "for op in sorted({s.name for s in d.get_all_schemas_with_history() if s.domain == ''}):",
                "    for v in range(1, d.onnx_opset_version() + 1):",
                "        try:",
                "            s = d.get_schema(op, v)",
                "        except Exception:",
                "            continue",
                "        if s.domain != '':",
                "            continue",
                "        ins = ' '.join(p.name + ['', '?', '*'][int(p.option)] for p in s.inputs)",
                "        attrs = ' '.join(sorted(k + ('!' if a.required else '') for k, a in s.attributes.items()))",
                "        print(op, v, s.since_version, '|', ins, '|', attrs)", ""));
        List<String> lines = Python.run(script).lines().toList();
        List<String> bad = new ArrayList<>();
        for (String l : lines) {
            String[] f = l.split("\\|", -1);
            String[] head = f[0].trim().split(" ");
            OpSchemas.Schema s = OpSchemas.at(head[0], Integer.parseInt(head[1]));
            if (s == null) {
                bad.add(l + " : graft has no schema");
                continue;
            }
            String ins = String.join(" ", s.inputs().stream().map(p -> p.name() + (p.optional() ? "?" : p.variadic() ? "*" : "")).toList());
            String attrs = String.join(" ", s.attrs().stream().sorted().map(a -> a + (s.required().contains(a) ? "!" : "")).toList());
            if (s.since() != Integer.parseInt(head[2]) || !ins.equals(f[1].trim()) || !attrs.equals(f[2].trim())) {
                bad.add(l + " : graft has " + s.since() + " | " + ins + " | " + attrs);
            }
        }
        assertThat(lines.size()).isGreaterThan(1500);
        assertThat(bad).isEmpty();
    }
}
