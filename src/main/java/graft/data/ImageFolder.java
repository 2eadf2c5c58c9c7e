package graft.data;

import graft.error.UsageException;
import graft.ir.Preprocessing;
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

/**
 * A folder with one subfolder per class (Keras {@code flow_from_directory}): JPEG and PNG
 * decoded by javax.imageio on all cores, resized so the short side is {@code resize}, then
 * center-cropped to size x size, as RGB 0..255 CHW (grayscale replicated), then
 * {@link Preprocessing}-ed ({@link #image}, the one image path of every command). Every file is checked before any is decoded into the result: an empty
 * class folder or an unreadable image fails with its path.
 */
public final class ImageFolder {
    private ImageFolder() {
    }

    private static final java.util.concurrent.atomic.LongAdder DECODED = new java.util.concurrent.atomic.LongAdder();

    /** Images made into model inputs ({@link #image}) in this JVM so far (tests count where images are decoded). */
    public static long decoded() {
        return DECODED.sum();
    }

    /** The files a class folder's listing takes: JPEG and PNG, by extension in any case. */
    public static boolean isImage(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
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

    public static Samples read(Path root, int size, int resize, int channels, Preprocessing pre) {
        return read(root, size, size, resize, channels, pre);
    }

    /**
     * h x w images (a model input that is not square); a square h = w = {@code resize} is what
     * {@link #read(Path, int, int, int, Preprocessing)} gives. Each image covers h x w with its
     * aspect kept and gives its centre window, as run/validate {@code --images} take it.
     */
    public static Samples readHw(Path root, int h, int w, int channels, Preprocessing pre) {
        return read(root, h, w, h == w ? h : 0, channels, pre);
    }

    /**
     * The image folder listed, not decoded ({@link Samples#listed}): the same files, order, labels
     * and classes as the reader, each file's absolute path, to be decoded where the set is used
     * ({@code finetune --spark}: on the executors). h x w and the preprocessing as {@link #readHw}.
     */
    public static Samples listHw(Path root, int h, int w, int channels, Preprocessing pre) {
        Listing l = listing(root);
        String[] files = l.files().stream().map(p -> p.toAbsolutePath().toString()).toArray(String[]::new);
        return Samples.listed(files, l.labels(), new ImageShape(h, w, h == w ? h : 0, channels, pre, 0), l.classes());
    }

    /** The files of the class folders in reading order (by class folder name, then by path), their labels and the class names. */
    private record Listing(List<Path> files, long[] labels, List<String> classes) {
    }

    private static Listing listing(Path root) {
        List<Path> dirs = classFolders(root);
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        for (Path d : dirs) {
            List<Path> imgs;
            try (Stream<Path> s = Files.list(d)) {
                imgs = s.filter(p -> isImage(p.getFileName().toString())).sorted().toList();
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
        return new Listing(files, labels.stream().mapToLong(Long::longValue).toArray(), classes);
    }

    private static Samples read(Path root, int h, int w, int resize, int channels, Preprocessing pre) {
        Listing l = listing(root);
        List<Path> files = l.files();
        int plane = h * w;
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
                jobs.add(pool.submit(() -> image(files.get(k), h, w, resize, channels, pre, data, k * channels * plane)));
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
        return new Samples(data, l.labels(), new long[] {channels, h, w}, l.classes());
    }

    /**
     * One image file as a model input, the path every command takes (finetune, features, run and
     * validate {@code --images}): decoded, resized bilinearly so that it covers h x w with its
     * aspect kept (the short side becomes {@code max(resize, side)}), the centre h x w window
     * taken, as CHW 0..255 RGB (grayscale: 0.299 R + 0.587 G + 0.114 B), then {@code pre}
     * applied. Writes {@code channels * h * w} values of {@code out} from {@code offset}.
     */
    public static void image(Path file, int h, int w, int resize, int channels, Preprocessing pre, float[] out, int offset) {
        image(ImageDecoder.read(file), h, w, resize, channels, pre, out, offset);
    }

    /** As {@link #image(Path, int, int, int, int, Preprocessing, float[], int)} for an image already decoded. */
    public static void image(BufferedImage img, int h, int w, int resize, int channels, Preprocessing pre, float[] out, int offset) {
        DECODED.increment();
        int iw = img.getWidth();
        int ih = img.getHeight();
        double f = Math.max(Math.max((double) resize / Math.min(iw, ih), (double) w / iw), (double) h / ih);
        int rw = Math.max(w, (int) Math.round(iw * f));
        int rh = Math.max(h, (int) Math.round(ih * f));
        ImageDecoder.pixels(ImageDecoder.resized(img, rw, rh), (rw - w) / 2, (rh - h) / 2, w, h, channels,
                out, offset);
        pre.applyChw(out, channels, offset, h * w);
    }
}
