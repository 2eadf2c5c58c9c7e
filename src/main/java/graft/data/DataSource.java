package graft.data;

import graft.error.UsageException;
import graft.io.Npy;
import graft.ir.DataType;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Chooses the reader for a DATA argument: a folder of MNIST-style IDX files, a folder with one
 * subfolder per class (or with {@code train/} and {@code val/} subfolders, split by folder), or
 * an {@code .npy} array with a labels {@code .npy}. Images and IDX pixels (0..255) are
 * preprocessed by the one rule ({@link graft.ir.Preprocessing}); an {@code .npy} array is taken
 * as the model input itself, unchanged.
 */
public final class DataSource {
    private DataSource() {
    }

    /** Where to read, and how to shape and normalise what is read. */
    /** {@code size} x {@code width} images (height x width; a square {@code size} when the model's input is not fixed and not square). */
    /** {@code list}: an image folder is listed, not decoded ({@link ImageFolder#listHw}); arrays are read as always. */
    public record Request(Path path, Path labels, int channels, int size, int width, graft.ir.Preprocessing pre, boolean list) {
        public Request(Path path, Path labels, int channels, int size, graft.ir.Preprocessing pre) {
            this(path, labels, channels, size, size, pre, false);
        }

        public Request(Path path, Path labels, int channels, int size, int width, graft.ir.Preprocessing pre) {
            this(path, labels, channels, size, width, pre, false);
        }
    }

    /** Training samples, and validation samples when the source splits them itself (else null). */
    public record Loaded(Samples train, Samples val) {
    }

    public static Loaded load(Request r) {
        Path p = r.path();
        if (!Files.exists(p)) {
            throw new graft.error.MissingInputException("data '" + p + "': does not exist. Give an image folder, an IDX folder or an .npy file");
        }
        if (Idx.isIdxFolder(p)) {
            Samples tr = Idx.read(p, "train").preprocessed(r.pre());
            Samples te = Files.exists(p.resolve("t10k-labels-idx1-ubyte.gz")) || Files.exists(p.resolve("t10k-labels-idx1-ubyte"))
                    ? Idx.read(p, "t10k").preprocessed(r.pre()) : null;
            return new Loaded(tr, te);
        }
        if (Files.isDirectory(p)) {
            Path train = p.resolve("train");
            Path val = Files.isDirectory(p.resolve("val")) ? p.resolve("val") : p.resolve("validation");
            if (r.list()) {
                if (Files.isDirectory(train) && Files.isDirectory(val)) {
                    return new Loaded(ImageFolder.listHw(train, r.size(), r.width(), r.channels(), r.pre()),
                            ImageFolder.listHw(val, r.size(), r.width(), r.channels(), r.pre()));
                }
                return new Loaded(ImageFolder.listHw(p, r.size(), r.width(), r.channels(), r.pre()), null);
            }
            if (Files.isDirectory(train) && Files.isDirectory(val)) {
                return new Loaded(ImageFolder.readHw(train, r.size(), r.width(), r.channels(), r.pre()),
                        ImageFolder.readHw(val, r.size(), r.width(), r.channels(), r.pre()));
            }
            return new Loaded(ImageFolder.readHw(p, r.size(), r.width(), r.channels(), r.pre()), null);
        }
        if (p.toString().endsWith(".npy")) {
            if (r.labels() == null) {
                throw new UsageException("data '" + p + "': an .npy array needs its labels. Pass --labels labels.npy");
            }
            Npy.Array x = Npy.read(p);
            Npy.Array y = Npy.read(r.labels());
            if (y.shape().length != 1 || y.shape()[0] != x.shape()[0]) {
                throw new UsageException("labels '" + r.labels() + "': shape " + java.util.Arrays.toString(y.shape())
                        + " does not give one label for each of the " + x.shape()[0] + " samples of '" + p + "'");
            }
            long[] labels = new long[(int) y.count()];
            long max = -1;
            for (int i = 0; i < labels.length; i++) {
                labels[i] = y.dtype() == DataType.INT64 ? y.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong(i * 8)
                        : (long) y.toFloats()[i];
                if (labels[i] < 0) {
                    throw new UsageException("labels '" + r.labels() + "': label " + labels[i] + " at " + i + " is negative");
                }
                max = Math.max(max, labels[i]);
            }
            java.util.List<String> classes = new java.util.ArrayList<>();
            for (int k = 0; k <= max; k++) {
                classes.add(Integer.toString(k));
            }
            long[] shape = java.util.Arrays.copyOfRange(x.shape(), 1, x.shape().length);
            return new Loaded(new Samples(x.toFloats(), labels, shape, classes), null);
        }
        throw new UsageException("data '" + p + "': not an image folder, an IDX folder or an .npy file");
    }

    /** Parses "5-9" or "5,6,7" into class ids. */
    public static long[] classes(String spec) {
        try {
            if (spec.contains("-")) {
                String[] a = spec.split("-");
                long lo = Long.parseLong(a[0].trim());
                long hi = Long.parseLong(a[1].trim());
                long[] r = new long[(int) (hi - lo + 1)];
                for (int i = 0; i < r.length; i++) {
                    r[i] = lo + i;
                }
                return r;
            }
            return java.util.Arrays.stream(spec.split(",")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new UsageException("--classes '" + spec + "': write a range 5-9 or a list 5,6,7");
        }
    }
}
