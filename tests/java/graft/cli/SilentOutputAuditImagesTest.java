package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The silent-output audit for images through the commands that read them (issue #25.4): RGBA,
 * grey+alpha, palette with transparency, 8- and 16-bit PNGs, progressive and CMYK JPEGs
 * (fixtures/data/make_decode_images.py) go through {@code run --images}, {@code features} and
 * {@code validate --images}. The model is {@code fixtures/data/identity_5x6.onnx} (a 1x1
 * identity convolution, fixtures/data/make_image_models.py), so what run and features write is
 * the input tensor graft built from the image; it must equal OpenCV's {@code IMREAD_COLOR} and
 * PIL's {@code convert('RGB')} decodes (fixtures/data/decode_oracle.py): exactly for PNGs,
 * within 2 levels for JPEGs (the two decoders differ by 1 on CMYK themselves). PIL clips 16-bit
 * grey at 255 where OpenCV scales it, so grey16.png is held to OpenCV only. For validate, the
 * second model outputs the oracle's decode whatever its input ({@code --constant}), so
 * {@code validate identity OTHER --images} passes only when graft's decode equals it; it must
 * exit 0 against OpenCV's decode (with --atol 2 for JPEGs, 0 for PNGs).
 */
class SilentOutputAuditImagesTest {
    static final String[] FILES = {"rgba.png", "la.png", "palette.png", "grey.png", "rgb16.png", "grey16.png", "progressive.jpg", "cmyk.jpg"};

    @Test
    void imagesReadThroughEveryCommandAsOpenCvAndPilReadThem() throws IOException {
        Path scratch = TestPaths.scratch("silent-output-audit-images");
        Path decode = TestPaths.fixtures().resolve("data/decode");
        Path model = TestPaths.fixtures().resolve("data/identity_5x6.onnx");
        List<String> args = new ArrayList<>(List.of(scratch.toString()));
        for (String f : FILES) {
            args.add(decode.resolve(f).toString());
        }
        Python.run(TestPaths.fixtures().resolve("data/decode_oracle.py"), args.toArray(String[]::new));
        Map<String, Map<String, String>> matrix = new LinkedHashMap<>();
        List<String> violations = new ArrayList<>();
        for (String f : FILES) {
            int tol = f.endsWith(".jpg") ? 2 : 0;
            float[] cv = chw(Npy.read(scratch.resolve(f + ".cv2.npy")).toFloats());
            float[] pil = f.equals("grey16.png") ? null : chw(Npy.read(scratch.resolve(f + ".pil.npy")).toFloats());
            Path dir = Files.createDirectories(scratch.resolve(f.replace('.', '_')));
            Path images = Files.createDirectories(dir.resolve("images/one"));
            Files.copy(decode.resolve(f), images.resolve(f));
            Map<String, String> row = matrix.computeIfAbsent(f, k -> new LinkedHashMap<>());

            Cli.Result run = Cli.run("run", model.toString(), "--images", images.toString(), "--out", dir.resolve("run").toString());
            row.put("run --images", judge(f, "run --images", run, dir.resolve("run/y.npy"), cv, pil, tol, violations));

            Cli.Result feats = Cli.run("features", model.toString(), dir.resolve("images").toString(), "--upto", "copy", "-o",
                    dir.resolve("features.npy").toString());
            row.put("features", judge(f, "features", feats, dir.resolve("features.npy"), cv, pil, tol, violations));

            Path constant = dir.resolve("opencv_decode.onnx");
            Python.run(TestPaths.fixtures().resolve("data/make_image_models.py"), "--constant", scratch.resolve(f + ".cv2.npy").toString(),
                    constant.toString());
            Cli.Result v = Cli.run("validate", model.toString(), constant.toString(), "--images", images.toString(), "--oracle", "graft",
                    "--atol", String.valueOf(tol), "--rtol", "0");
            if (v.code() == 0) {
                row.put("validate --images", "ok (= OpenCV" + (tol > 0 ? " within " + tol : "") + ")");
            } else {
                row.put("validate --images", "WRONG (exit " + v.code() + ")");
                violations.add(f + " | validate --images | exit " + v.code() + " against OpenCV's decode: "
                        + AuditTools.firstLine(v.err().isBlank() ? v.out() : v.err()));
            }
        }
        StringBuilder b = new StringBuilder("| image | run --images | features | validate --images |\n|---|---|---|---|\n");
        matrix.forEach((f, row) -> b.append("| ").append(f).append(" | ").append(row.get("run --images")).append(" | ")
                .append(row.get("features")).append(" | ").append(row.get("validate --images")).append(" |\n"));
        b.append("\nViolations: ").append(violations.size()).append('\n');
        violations.forEach(x -> b.append("- ").append(x).append('\n'));
        Path report = TestPaths.root().resolve("target/audit/matrix-images.md");
        Files.createDirectories(report.getParent());
        Files.writeString(report, b.toString());
        System.out.println(b);
        assertThat(violations).as("silent-output violations (matrix in " + report + ")").isEmpty();
    }

    static String judge(String f, String column, Cli.Result r, Path out, float[] cv, float[] pil, int tol, List<String> violations) {
        if (r.code() != 0) {
            violations.add(f + " | " + column + " | exit " + r.code() + ": " + AuditTools.firstLine(r.err()));
            return "refused (" + r.code() + ")";
        }
        if (!Files.isRegularFile(out)) {
            violations.add(f + " | " + column + " | exit 0 but no " + out.getFileName());
            return "WRONG (no output)";
        }
        float[] got = Npy.read(out).toFloats();
        float dcv = maxDiff(got, cv);
        float dpil = pil == null ? 0 : maxDiff(got, pil);
        String verdict = String.format(Locale.ROOT, "OpenCV %s", fmt(dcv)) + (pil == null ? ", PIL n/a" : String.format(Locale.ROOT, ", PIL %s", fmt(dpil)));
        if (dcv > tol || dpil > tol) {
            violations.add(f + " | " + column + " | decoded tensor differs: " + verdict + " (tolerance " + tol + ")");
            return "WRONG (" + verdict + ")";
        }
        return "ok (" + verdict + ")";
    }

    static String fmt(float d) {
        return d == (int) d ? String.valueOf((int) d) : String.valueOf(d);
    }

    /** max |a - b| over all values; a length mismatch is infinite. */
    static float maxDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Float.POSITIVE_INFINITY;
        }
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }

    /** H x W x 3 (5 x 6) to 3 x H x W. */
    static float[] chw(float[] hwc) {
        int n = hwc.length / 3;
        float[] r = new float[hwc.length];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                r[c * n + i] = hwc[i * 3 + c];
            }
        }
        return r;
    }
}
