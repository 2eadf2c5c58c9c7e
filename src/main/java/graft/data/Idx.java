package graft.data;

import graft.error.MalformedModelException;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * IDX files as MNIST and Fashion-MNIST ship them ({@code *-images-idx3-ubyte[.gz]} with
 * {@code *-labels-idx1-ubyte[.gz]}): big-endian magic 0x0801/0x0803, dimensions, then uint8.
 * Read in one streaming pass; pixels become floats 0..255 in [N, 1, H, W].
 */
public final class Idx {
    private Idx() {
    }

    /** Images and labels of one split; {@code prefix} is "train" or "t10k". */
    public static Samples read(Path dir, String prefix) {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        byte[] lab = read(labels, 1);
        byte[] img = read(images, 3);
        int n = lab.length;
        if (img.length % n != 0) {
            throw new MalformedModelException(images, "holds " + img.length + " pixels, not a whole number of images for "
                    + n + " labels");
        }
        int side = (int) Math.round(Math.sqrt(img.length / (double) n));
        float[] data = new float[img.length];
        for (int i = 0; i < img.length; i++) {
            data[i] = img[i] & 0xff;
        }
        long[] l = new long[n];
        int max = 0;
        for (int i = 0; i < n; i++) {
            l[i] = lab[i] & 0xff;
            max = Math.max(max, (int) l[i]);
        }
        List<String> classes = new ArrayList<>();
        for (int i = 0; i <= max; i++) {
            classes.add(Integer.toString(i));
        }
        return new Samples(data, l, new long[] {1, side, side}, classes);
    }

    public static boolean isIdxFolder(Path dir) {
        return Files.isDirectory(dir) && (Files.exists(dir.resolve("train-images-idx3-ubyte.gz"))
                || Files.exists(dir.resolve("train-images-idx3-ubyte")));
    }

    private static Path find(Path dir, String stem) {
        Path gz = dir.resolve(stem + ".gz");
        if (Files.exists(gz)) {
            return gz;
        }
        Path raw = dir.resolve(stem);
        if (Files.exists(raw)) {
            return raw;
        }
        throw new graft.error.UsageException("IDX data '" + dir + "': no " + stem + "[.gz]. Point DATA at the folder with "
                + "the MNIST-style files");
    }

    private static byte[] read(Path file, int rank) {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(
                     file.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16))) {
            int magic = in.readInt();
            if (magic != 0x0800 + rank) {
                throw new MalformedModelException(file, String.format("magic 0x%08x is not IDX of rank %d", magic, rank));
            }
            long count = 1;
            for (int i = 0; i < rank; i++) {
                int d = in.readInt();
                if (d < 0) {
                    throw new MalformedModelException(file, "negative dimension " + d);
                }
                count *= d;
            }
            if (count > Integer.MAX_VALUE - 16) {
                throw new MalformedModelException(file, "claims " + count + " values, more than graft holds in memory");
            }
            byte[] b = new byte[(int) count];
            in.readFully(b);
            return b;
        } catch (java.io.EOFException e) {
            throw new MalformedModelException(file, "is truncated", e);
        } catch (IOException e) {
            throw new MalformedModelException(file, "cannot be read: " + e.getMessage(), e);
        }
    }
}
