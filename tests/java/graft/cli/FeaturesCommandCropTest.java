package graft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import graft.io.Npy;
import graft.testing.Cli;
import graft.testing.TestPaths;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code features --crop} is Caffe's TEST phase: the center window. Checked against features of
 * the same PNG images cropped beforehand with {@link BufferedImage#getSubimage} (no graft code),
 * fed without a crop; PNG is lossless, so both runs see the same pixels.
 */
class FeaturesCommandCropTest {
    @BeforeAll
    static void oracle() {
        FinetuneCommandTest.oracle();
    }

    /** Three classes of {@code side}x{@code side} PNG images whose colour tells the class. */
    static Path images(Path dir, int perClass, int side) throws IOException {
        Random r = new Random(7);
        String[] names = {"red", "green", "blue"};
        for (int c = 0; c < 3; c++) {
            Path d = Files.createDirectories(dir.resolve(names[c]));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        int[] v = {r.nextInt(100), r.nextInt(100), r.nextInt(100)};
                        v[c] += 150;
                        img.setRGB(x, y, (v[0] << 16) | (v[1] << 8) | v[2]);
                    }
                }
                ImageIO.write(img, "png", d.resolve("img" + i + ".png").toFile());
            }
        }
        return dir;
    }

    @Test
    void centerCropMatchesImagesCroppedBeforehand() throws IOException {
        Path dir = TestPaths.scratch("features-crop");
        Path data = images(dir.resolve("data"), 3, 11);
        // Caffe's TEST window of 8 in 11: offset (11 - 8) / 2 = 1 on both axes
        Path cropped = dir.resolve("cropped");
        try (var files = Files.walk(data)) {
            for (Path p : files.filter(f -> f.toString().endsWith(".png")).toList()) {
                Path target = cropped.resolve(data.relativize(p));
                Files.createDirectories(target.getParent());
                BufferedImage src = ImageIO.read(p.toFile());
                BufferedImage sub = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                sub.getGraphics().drawImage(src.getSubimage(1, 1, 8, 8), 0, 0, null);
                ImageIO.write(sub, "png", target.toFile());
            }
        }
        String pool = FinetuneCommandTest.lastPoolLayer();
        Path a = dir.resolve("a.npy");
        Cli.Result r = Cli.run("features", FinetuneCommandTest.model.toString(), data.toString(), "--upto", pool, "--size", "11",
                "--crop", "8", "-o", a.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path b = dir.resolve("b.npy");
        Cli.Result rb = Cli.run("features", FinetuneCommandTest.model.toString(), cropped.toString(), "--upto", pool, "--size", "8",
                "-o", b.toString());
        assertThat(rb.code()).as(rb.err()).isZero();
        Npy.Array fa = Npy.read(a);
        Npy.Array fb = Npy.read(b);
        assertThat(fa.shape()).containsExactly(9, 8, 2, 2);
        assertThat(fb.shape()).containsExactly(fa.shape());
        assertThat(maxDiff(a, b)).as("max |center crop - cropped files|").isLessThanOrEqualTo(1e-6);
        // the default from the model: a Caffe transform_param crop_size, as the Caffe importer records it
        graft.ir.Graph g = graft.onnx.OnnxImporter.read(FinetuneCommandTest.model);
        g.metadata().put("preprocess.crop_size", "8");
        Path meta = dir.resolve("meta.onnx");
        graft.onnx.OnnxExporter.write(g, meta, graft.onnx.OnnxExporter.Settings.defaults());
        Path c = dir.resolve("c.npy");
        Cli.Result rc = Cli.run("features", meta.toString(), data.toString(), "--upto", pool, "--size", "11", "-o", c.toString());
        assertThat(rc.code()).as(rc.err()).isZero();
        Path d = dir.resolve("d.npy");
        Cli.Result rd = Cli.run("features", meta.toString(), cropped.toString(), "--upto", pool, "--size", "8", "--crop", "0",
                "-o", d.toString());
        assertThat(rd.code()).as(rd.err()).isZero();
        assertThat(Npy.read(c).shape()).containsExactly(9, 8, 2, 2);
        assertThat(maxDiff(c, d)).as("max |metadata crop - cropped files|").isLessThanOrEqualTo(1e-6);
        // not a vacuous match: the uncropped 11x11 images do not fit the 8x8 model
        Cli.Result bad = Cli.run("features", FinetuneCommandTest.model.toString(), data.toString(), "--upto", pool, "--size", "11",
                "--crop", "12", "-o", dir.resolve("e.npy").toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("crop size '12'");
    }

    static double maxDiff(Path a, Path b) {
        float[] x = Npy.read(a).toFloats();
        float[] y = Npy.read(b).toFloats();
        assertThat(y).hasSameSizeAs(x);
        double max = 0;
        for (int i = 0; i < x.length; i++) {
            max = Math.max(max, Math.abs(x[i] - y[i]));
        }
        return max;
    }
}
