package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * #15, the Keras 3 {@code .keras} writer, against the files real Keras 3.15.1 saved
 * (fixtures/keras/keras3, make_keras3_real.py): graft reads each and writes it back as .keras, and
 * (a) the zip's entry names, order and methods equal Keras's, every entry dated 1980-01-01 with
 * Unix mode 0600 as Keras's config entries are; (b) the model entry's keys, and per layer the
 * entry keys and the config keys (set and order), equal those of the same class in Keras's file;
 * (c) every weight dataset, found by the layer name Keras writes on each {@code vars} group, has
 * the original's shape and bits (both files read with jhdf directly, not graft's importer);
 * (d) graft's ONNX of the written file gives Keras's saved outputs within 1e-5 relative to the
 * output's magnitude in ONNX Runtime; and two writes are byte-identical. Real Keras 3.15.1
 * loading these files is shown at dev time by fixtures/keras/keras3/check_graft_keras3.py.
 */
class KerasThreeWriterTest {
    static final double TOLERANCE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"k3_functional", "k3_sequential", "k3_hard_sigmoid"})
    void realKeras3FileIsWrittenBackAsKerasWritesIt(String name) throws IOException {
        Path dir = TestPaths.fixtures().resolve("keras/keras3");
        Path original = dir.resolve(name + ".keras");
        Path scratch = TestPaths.scratch("keras3-writer");
        Path out = scratch.resolve(name + ".keras");
        Cli.Result r = Cli.run("convert", "--force", original.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isZero();

        // (a) the zip's entries
        assertThat(entries(out)).isEqualTo(entries(original)).containsExactly("metadata.json:0", "config.json:0", "model.weights.h5:0");
        assertThat(centralFields(out)).as("dates and modes").allMatch(f -> f.equals("date=33 time=0 mode=600 madeBy=314 extra=0"));

        // (b) config keys
        JsonNode a = config(original);
        JsonNode b = config(out);
        assertThat(fieldNames(b)).isEqualTo(fieldNames(a));
        assertThat(b.path("class_name").asText()).isEqualTo(a.path("class_name").asText());
        assertThat(b.path("module").asText()).isEqualTo(a.path("module").asText());
        assertThat(fieldNames(b.path("config"))).isEqualTo(fieldNames(a.path("config")));
        assertThat(b.path("build_config")).isEqualTo(a.path("build_config"));
        Map<String, JsonNode> byClass = new LinkedHashMap<>();
        for (JsonNode l : a.path("config").path("layers")) {
            byClass.putIfAbsent(l.path("class_name").asText(), l);
        }
        List<String> bad = new ArrayList<>();
        for (JsonNode l : b.path("config").path("layers")) {
            String cls = l.path("class_name").asText();
            JsonNode ref = byClass.get(cls);
            if (ref == null) {
                bad.add(l.path("name").asText() + ": class " + cls + " not in Keras's file");
                continue;
            }
            // a Sequential (k3_sequential) is written back as a Sequential: entries without name/inbound_nodes
            List<String> want = fieldNames(ref);
            if (!fieldNames(l).equals(want)) {
                bad.add(l.path("name").asText() + ": entry keys " + fieldNames(l) + ", Keras " + want);
            }
            if (!fieldNames(l.path("config")).equals(fieldNames(ref.path("config")))) {
                bad.add(l.path("name").asText() + ": config keys " + fieldNames(l.path("config")) + ", Keras " + fieldNames(ref.path("config")));
            }
        }
        assertThat(bad).isEmpty();

        // (c) weights, bit for bit
        Map<String, List<Dataset>> wa = new LinkedHashMap<>();
        Map<String, List<Dataset>> wb = new LinkedHashMap<>();
        try (HdfFile ha = weights(original, scratch.resolve(name + ".orig.h5")); HdfFile hb = weights(out, scratch.resolve(name + ".graft.h5"))) {
            byLayerName(ha, wa);
            byLayerName(hb, wb);
            assertThat(wa.values().stream().mapToInt(List::size).sum()).isPositive();
            for (Map.Entry<String, List<Dataset>> e : wa.entrySet()) {
                if (e.getValue().isEmpty()) {
                    continue; // a weightless layer; k3_functional's UpSampling2D(size=1) is an identity graft does not write
                }
                List<Dataset> got = wb.get(e.getKey());
                assertThat(got).as("layer " + e.getKey()).isNotNull().hasSameSizeAs(e.getValue());
                for (int i = 0; i < got.size(); i++) {
                    assertThat(got.get(i).getDimensions()).as(e.getKey() + " var " + i).isEqualTo(e.getValue().get(i).getDimensions());
                    assertThat(KerasH5RoundTripTest.floatBits(got.get(i))).as(e.getKey() + " var " + i).isEqualTo(KerasH5RoundTripTest.floatBits(e.getValue().get(i)));
                }
            }
        }

        // (d) outputs
        Path onnx = scratch.resolve(name + ".onnx");
        Cli.Result r2 = Cli.run("convert", "--force", out.toString(), onnx.toString());
        assertThat(r2.code()).as(r2.err()).isZero();
        double err = KerasThreeSavedTest.relError(onnx, dir.resolve(name + "_input.npy"), dir.resolve(name + "_output.npy"));
        System.out.printf("%s: graft's .keras -> ONNX vs Keras 3.15.1's outputs: %.1e relative%n", name, err);
        assertThat(err).isLessThanOrEqualTo(TOLERANCE);

        // reproducible
        Path again = scratch.resolve(name + ".again.keras");
        assertThat(Cli.run("convert", "--force", original.toString(), again.toString()).code()).isZero();
        assertThat(Files.mismatch(out, again)).as("two writes differ at byte").isEqualTo(-1L);
    }

    /**
     * Keras 3 has neither ThresholdedReLU nor Keras 2's hard_sigmoid (slope 0.2; Keras 3's is
     * 1/6): a Keras 2 model holding both is refused in one line naming both layers, exit 3, and
     * no file is left (before #15's writer every .keras output was refused, exit 2, whatever it held).
     */
    @org.junit.jupiter.api.Test
    void keras2LayersKeras3LacksAreRefusedByName() {
        Path scratch = TestPaths.scratch("keras3-writer-refusal");
        Path model = scratch.resolve("writer_layers.h5");
        Python.run(TestPaths.fixtures().resolve("keras/make_writer_layers.py"), model.toString(), scratch.resolve("other.h5").toString());
        Path out = scratch.resolve("writer_layers.keras");
        Cli.Result r = Cli.run("convert", "--force", model.toString(), out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip()).doesNotContain("\n").contains("thresh (ThresholdedReLU: Keras 3 has no such layer)").contains("hsig")
                .contains("hard_sigmoid").doesNotContain("Exception");
        assertThat(out).doesNotExist();
        assertThat(scratch.toFile().list()).noneMatch(f -> f.contains("writer_layers.keras"));
    }

    /** "name:method" of every entry in central-directory order. */
    static List<String> entries(Path zip) throws IOException {
        List<String> r = new ArrayList<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (var it = z.entries(); it.hasMoreElements(); ) {
                ZipEntry e = it.nextElement();
                r.add(e.getName() + ":" + e.getMethod());
            }
        }
        return r;
    }

    /** From each central-directory header: DOS date and time, Unix mode (octal), made-by (hex), extra length. */
    static List<String> centralFields(Path zip) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(Files.readAllBytes(zip)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        List<String> r = new ArrayList<>();
        for (int p = 0; p + 46 <= b.limit(); p++) {
            if (b.getInt(p) == 0x02014b50) {
                r.add("date=" + (b.getShort(p + 14) & 0xFFFF) + " time=" + (b.getShort(p + 12) & 0xFFFF) + " mode="
                        + Integer.toOctalString(b.getInt(p + 38) >>> 16) + " madeBy=" + Integer.toHexString(b.getShort(p + 4) & 0xFFFF)
                        + " extra=" + (b.getShort(p + 30) & 0xFFFF));
                p += 45;
            }
        }
        return r;
    }

    static JsonNode config(Path keras) throws IOException {
        try (ZipFile z = new ZipFile(keras.toFile()); InputStream in = z.getInputStream(z.getEntry("config.json"))) {
            return JSON.readTree(in);
        }
    }

    static List<String> fieldNames(JsonNode n) {
        List<String> r = new ArrayList<>();
        n.fieldNames().forEachRemaining(r::add);
        return r;
    }

    /** model.weights.h5 extracted to {@code to} and opened with jhdf. */
    static HdfFile weights(Path keras, Path to) throws IOException {
        try (ZipFile z = new ZipFile(keras.toFile()); InputStream in = z.getInputStream(z.getEntry("model.weights.h5"))) {
            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return new HdfFile(to);
    }

    /** Every layers/X/vars group's datasets 0, 1, ... keyed by the group's {@code name} attribute (the layer's name). */
    static void byLayerName(HdfFile h, Map<String, List<Dataset>> r) {
        Group layers = (Group) h.getChild("layers");
        for (Node n : layers.getChildren().values()) {
            Group vars = (Group) ((Group) n).getChild("vars");
            assertThat(vars).as(n.getPath() + "vars").isNotNull();
            String layer = String.valueOf(vars.getAttribute("name").getData());
            List<Dataset> ds = new ArrayList<>();
            for (int i = 0; vars.getChild(Integer.toString(i)) instanceof Dataset d; i++) {
                ds.add(d);
            }
            assertThat(ds).as(n.getPath() + " holds only vars 0..n-1").hasSize(vars.getChildren().size());
            assertThat(r.put(layer, ds)).as("layer name " + layer + " twice").isNull();
        }
        for (Iterator<String> it = h.getChildren().keySet().iterator(); it.hasNext(); ) {
            assertThat(it.next()).isIn("layers", "vars");
        }
    }
}
