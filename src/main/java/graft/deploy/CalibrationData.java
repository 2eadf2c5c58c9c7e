package graft.deploy;

import graft.data.Idx;
import graft.data.ImageFolder;
import graft.data.Samples;
import graft.error.GraftException;
import graft.error.MissingInputException;
import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.Preprocessing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The samples {@code graft quantize --calibration} reads: an {@code .npy} array of model inputs
 * (taken as they are), an IDX folder (its training images, preprocessed as the model says), or a
 * folder of JPEG/PNG images (searched recursively; preprocessed as the model says). Calibration
 * measures the ranges the model will see, so nothing is resized: a sample whose size is not the
 * model's input size is refused (exit 3), as is a source that holds no sample.
 */
public final class CalibrationData {
    private CalibrationData() {
    }

    /** A calibration source that cannot be used: exit 3. */
    public static final class BadCalibrationException extends GraftException {
        public BadCalibrationException(String message) {
            super(message);
        }

        @Override
        public int exitCode() {
            return graft.error.ExitCodes.BAD_INPUT;
        }
    }

    /**
     * Up to {@code samples} samples of {@code path} (a seeded random choice when there are more), each
     * of shape {@code want} ([C, H, W] or the model's sample shape).
     */
    public static Samples load(Path path, long[] want, Preprocessing pre, int samples, long seed) {
        if (!Files.exists(path)) {
            throw new MissingInputException("calibration '" + path + "': does not exist. Give an image folder, an IDX folder or an .npy file");
        }
        Samples s;
        if (path.toString().endsWith(".npy") && Files.isRegularFile(path)) {
            Npy.Array x = Npy.read(path);
            if (x.shape().length == 0 || x.shape()[0] == 0) {
                throw new BadCalibrationException("calibration '" + path + "': holds no samples (shape " + Arrays.toString(x.shape()) + ")");
            }
            long[] shape = Arrays.copyOfRange(x.shape(), 1, x.shape().length);
            check(path, shape, want, "samples are");
            s = new Samples(x.toFloats(), new long[(int) x.shape()[0]], shape, List.of("0"));
        } else if (Files.isDirectory(path) && Idx.isIdxFolder(path)) {
            Samples tr = Idx.read(path, "train");
            check(path, tr.sampleShape(), want, "images are");
            s = tr.preprocessed(pre);
        } else if (Files.isDirectory(path)) {
            s = images(path, want, pre);
        } else {
            throw new UsageException("calibration '" + path + "': not an image folder, an IDX folder or an .npy file");
        }
        if (s.size() == 0) {
            throw new BadCalibrationException("calibration '" + path + "': holds no samples");
        }
        if (samples > 0 && s.size() > samples) {
            int[] idx = Arrays.copyOf(Samples.shuffled(s.size(), seed), samples);
            Arrays.sort(idx);
            s = s.subset(idx);
        }
        return s;
    }

    private static void check(Path path, long[] got, long[] want, String what) {
        if (want == null) {
            return;
        }
        boolean ok = got.length == want.length;
        for (int i = 0; ok && i < got.length; i++) {
            ok = want[i] <= 0 || want[i] == got[i];
        }
        if (!ok) {
            throw new BadCalibrationException("calibration '" + path + "': " + what + " " + shape(got) + ", the model's input takes "
                    + shape(want));
        }
    }

    private static String shape(long[] s) {
        List<String> d = new ArrayList<>();
        for (long v : s) {
            d.add(v <= 0 ? "?" : Long.toString(v));
        }
        return "[" + String.join(", ", d) + "]";
    }

    private static Samples images(Path root, long[] want, Preprocessing pre) {
        List<Path> files;
        try (Stream<Path> st = Files.walk(root)) {
            files = st.filter(Files::isRegularFile).filter(f -> {
                String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
            }).sorted().toList();
        } catch (IOException e) {
            throw new UsageException("calibration folder '" + root + "': cannot be listed: " + e.getMessage());
        }
        if (files.isEmpty()) {
            throw new BadCalibrationException("calibration folder '" + root + "': holds no JPEG or PNG image");
        }
        if (want == null || want.length != 3 || want[1] <= 0 || want[2] <= 0) {
            throw new UsageException("calibration folder '" + root + "': the model's input is not [C, H, W] with a fixed size; pass an .npy array");
        }
        int c = (int) want[0];
        int h = (int) want[1];
        int w = (int) want[2];
        for (Path f : files) {
            int[] size = size(f);
            if (size[0] != w || size[1] != h) {
                throw new BadCalibrationException("calibration image '" + f + "': " + size[0] + "x" + size[1] + ", the model's input takes "
                        + w + "x" + h + " (calibration images are not resized)");
            }
        }
        float[] data = new float[files.size() * c * h * w];
        for (int i = 0; i < files.size(); i++) {
            ImageFolder.image(files.get(i), h, w, Math.min(h, w), c, pre, data, i * c * h * w);
        }
        return new Samples(data, new long[files.size()], new long[] {c, h, w}, List.of("0"));
    }

    /** Width and height from the image's header. */
    private static int[] size(Path f) {
        try (ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
            Iterator<ImageReader> it = in == null ? null : ImageIO.getImageReaders(in);
            if (it == null || !it.hasNext()) {
                throw new BadCalibrationException("calibration image '" + f + "': not a readable JPEG or PNG image");
            }
            ImageReader r = it.next();
            try {
                r.setInput(in);
                return new int[] {r.getWidth(0), r.getHeight(0)};
            } finally {
                r.dispose();
            }
        } catch (IOException e) {
            throw new BadCalibrationException("calibration image '" + f + "': cannot be read (" + e.getMessage() + ")");
        }
    }
}
