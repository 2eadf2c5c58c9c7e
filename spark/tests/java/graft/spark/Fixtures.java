package graft.spark;

import graft.data.Idx;
import graft.data.Samples;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;

/** The Spark tests' data: the transfer study's source model and Fashion-MNIST test images as PNG class folders. */
final class Fixtures {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    private Fixtures() {
    }

    static Path root() {
        String r = System.getProperty("graft.root");
        return Path.of(r == null ? "." : r).toAbsolutePath().normalize();
    }

    static Path scratch(String name) {
        Path p = root().resolve("target/test-scratch/spark").resolve(name);
        delete(p);
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    static void delete(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The source CNN of the Fashion-MNIST transfer study (fixtures/train/fashion_source.py, PyTorch,
     * classes 0-4, input [N, 1, 28, 28]), made once under target/ as the core's tests make it.
     */
    static Path sourceModel() throws Exception {
        Assumptions.assumeTrue(Files.exists(FASHION.resolve("t10k-images-idx3-ubyte.gz")), "Debian dataset-fashion-mnist is not installed");
        Path model = root().resolve("target/fixtures/train/fashion_source.onnx");
        if (System.getProperty("graft.spark.sourceModel") != null) {
            return Path.of(System.getProperty("graft.spark.sourceModel")); // a quicker stand-in while developing
        }
        if (!Files.exists(model)) {
            Files.createDirectories(model.getParent());
            Process p = new ProcessBuilder("/usr/bin/python3", root().resolve("fixtures/train/fashion_source.py").toString(), FASHION.toString(),
                    model.toString()).directory(root().resolve("fixtures/train").toFile()).inheritIO().start();
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalStateException("fashion_source.py failed");
            }
        }
        return model;
    }

    /**
     * The first {@code perClass} Fashion-MNIST test images of each of the 10 classes as 8-bit grey
     * PNG files, DIR/CLASS/NNNNN.png (class folders named by the class id).
     */
    static Path pngFolders(Path dir, int perClass) throws IOException {
        Samples t = Idx.read(FASHION, "t10k");
        int[] taken = new int[10];
        for (int i = 0; i < t.size(); i++) {
            int c = (int) t.label(i);
            if (taken[c] >= perClass) {
                continue;
            }
            taken[c]++;
            var v = t.sample(i);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int k = 0; k < 28 * 28; k++) {
                img.getRaster().setSample(k % 28, k / 28, 0, Math.round(v.get(k)));
            }
            Path f = dir.resolve("class" + c).resolve(String.format("%05d.png", i));
            Files.createDirectories(f.getParent());
            ImageIO.write(img, "png", f.toFile());
        }
        return dir;
    }

    /** The first {@code n} Fashion-MNIST test images as 8-bit grey PNG files in one folder, DIR/NNNNN.png (what validate --images reads). */
    static Path pngFlat(Path dir, int n) throws IOException {
        Samples t = Idx.read(FASHION, "t10k");
        Files.createDirectories(dir);
        for (int i = 0; i < n; i++) {
            var v = t.sample(i);
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int k = 0; k < 28 * 28; k++) {
                img.getRaster().setSample(k % 28, k / 28, 0, Math.round(v.get(k)));
            }
            ImageIO.write(img, "png", dir.resolve(String.format("%05d.png", i)).toFile());
        }
        return dir;
    }

    /** The .npy file's bytes (header and little-endian values: equal bytes are equal float bits). */
    static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }
}
