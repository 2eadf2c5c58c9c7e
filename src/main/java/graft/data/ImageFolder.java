package graft.data;

import graft.error.MalformedModelException;
import graft.error.UsageException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder with one subfolder per class (Keras {@code flow_from_directory}): JPEG and PNG
 * decoded by javax.imageio on all cores, resized so the short side is {@code resize}, then
 * center-cropped to size x size, as RGB 0..255 CHW (grayscale replicated), then
 * {@link Preprocess}ed. Every file is checked before any is decoded into the result: an empty
 * class folder or an unreadable image fails with its path.
 */
public final class ImageFolder {
    private ImageFolder() {
    }

    public static List<Path> classFolders(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> dirs = s.filter(Files::isDirectory).sorted().toList();
            if (dirs.isEmpty()) {
                throw new UsageException("image folder '" + root + "': has no class subfolders. Put each class's images "
                        + "in a folder named after the class");
            }
            return dirs;
        } catch (IOException e) {
            throw new UsageException("image folder '" + root + "': cannot be listed: " + e.getMessage());
        }
    }

    public static Samples read(Path root, int size, int resize, int channels, Preprocess pre) {
        List<Path> dirs = classFolders(root);
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (Path d : dirs) {
            List<Path> imgs;
            try (Stream<Path> s = Files.list(d)) {
                imgs = s.filter(p -> {
                    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                    return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
                }).sorted().toList();
            } catch (IOException e) {
                throw new UsageException("class folder '" + d + "': cannot be listed: " + e.getMessage());
            }
            if (imgs.isEmpty()) {
                throw new UsageException("class folder '" + d + "': holds no JPEG or PNG image. Remove it or add images");
            }
            for (Path p : imgs) {
                files.add(p);
                labels.add((long) classes.size());
            }
            classes.add(d.getFileName().toString());
        }
        int plane = size * size;
        float[] data = new float[files.size() * channels * plane];
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "graft-decode");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> jobs = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                final int k = i;
                jobs.add(pool.submit(() -> decode(files.get(k), data, k * channels * plane, size, resize, channels, pre)));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            pool.shutdownNow();
        }
        return new Samples(data, labels.stream().mapToLong(Long::longValue).toArray(), new long[] {channels, size, size}, classes);
    }

    private static void decode(Path file, float[] out, int offset, int size, int resize, int channels, Preprocess pre) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new MalformedModelException(file, "is not a readable JPEG or PNG image: " + e.getMessage(), e);
        }
        if (img == null) {
            throw new MalformedModelException(file, "is not a readable JPEG or PNG image");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        double f = (double) Math.max(resize, size) / Math.min(w, h);
        int rw = Math.max(size, (int) Math.round(w * f));
        int rh = Math.max(size, (int) Math.round(h * f));
        BufferedImage scaled = new BufferedImage(rw, rh, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scaled.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, rw, rh, null);
        g.dispose();
        int x0 = (rw - size) / 2;
        int y0 = (rh - size) / 2;
        int plane = size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = scaled.getRGB(x0 + x, y0 + y);
                int r = (rgb >> 16) & 0xff;
                int gg = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                int k = y * size + x;
                if (channels == 1) {
                    out[offset + k] = (float) (0.299 * r + 0.587 * gg + 0.114 * b);
                } else {
                    out[offset + k] = r;
                    out[offset + plane + k] = gg;
                    out[offset + 2 * plane + k] = b;
                }
            }
        }
        pre.apply(out, channels, offset, plane);
    }
}
