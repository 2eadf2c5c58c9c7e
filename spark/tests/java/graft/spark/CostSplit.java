package graft.spark;

import graft.data.FeatureFiles;
import graft.data.ImageDecoder;
import graft.data.ImageFolder;
import graft.data.Samples;
import graft.runtime.Device;
import graft.runtime.OrtRunner;
import graft.train.Trainer;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * bench/spark_features.sh's per-image cost split of features on this machine: the
 * steps an executor takes for each image, timed apart over a whole image folder (after one warm-up
 * pass): decode (javax.imageio from the file's bytes), preprocess (resize, centre window, pixels,
 * {@link graft.ir.Preprocessing}), ONNX Runtime (batches of 32 through one session, ONNX
 * Runtime's default threads), write (the .npy files of all features).
 *
 * <p>Usage: CostSplit MODEL DATA LAYER
 */
public final class CostSplit {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path data = Path.of(args[1]);
        GraftSpark.Prepared p = GraftSpark.prepare(model, args[2]);
        List<String> classes = ImageRows.classes(data);
        List<byte[]> files = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            try (var s = Files.list(data.resolve(classes.get(c)))) {
                for (Path f : s.filter(x -> ImageFolder.isImage(x.getFileName().toString())).sorted().toList()) {
                    files.add(Files.readAllBytes(f));
                    labels.add((long) c);
                }
            }
        }
        int n = files.size();
        var shape = p.shape();
        Path dir = Files.createTempDirectory("graft-cost");
        try (OrtRunner r = OrtRunner.open(graft.runtime.Sessions.export(p.prefix(), dir, 17), Device.CPU)) {
            double[] best = null;
            for (int pass = 0; pass < 2; pass++) {
                long t0 = System.nanoTime();
                List<BufferedImage> imgs = new ArrayList<>();
                for (byte[] b : files) {
                    imgs.add(ImageDecoder.read(b, "image"));
                }
                long t1 = System.nanoTime();
                float[] x = new float[n * shape.values()];
                for (int i = 0; i < n; i++) {
                    ImageFolder.image(imgs.get(i), shape.h(), shape.w(), shape.resize(), shape.channels(), shape.pre(), x, i * shape.values());
                }
                Samples s = shape.samples(x, labels.stream().mapToLong(Long::longValue).toArray(), classes);
                long t2 = System.nanoTime();
                Samples f = Trainer.features(r, p.prefix().inputs().get(0).name(), p.prefix().outputs().get(0).name(), p.nhwc(), s, 32, null);
                long t3 = System.nanoTime();
                Path out = dir.resolve("f.npy");
                FeatureFiles.write(f, out, false, true);
                long t4 = System.nanoTime();
                best = new double[] {(t1 - t0) / 1e3 / n, (t2 - t1) / 1e3 / n, (t3 - t2) / 1e3 / n, (t4 - t3) / 1e3 / n};
            }
            System.out.printf(Locale.ROOT, "per image (us, %d images, second pass): decode %.1f, preprocess %.1f, ONNX Runtime %.1f, write %.1f%n", n,
                    best[0], best[1], best[2], best[3]);
        } finally {
            Sessions.delete(dir);
        }
    }
}
