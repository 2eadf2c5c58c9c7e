package graft.data;

import graft.io.Npy;
import graft.ir.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * The files {@code graft features} writes, on one machine and from Spark alike: the features as
 * .npy (float32, or float16 with {@code half}), [N, sample shape], and their labels as int64 [N]
 * in FEATS.labels.npy beside them. Each file is written to a temporary name and renamed.
 */
public final class FeatureFiles {
    private FeatureFiles() {
    }

    /** FEATS.labels.npy for FEATS.npy. */
    public static Path labelsFile(Path out) {
        return out.resolveSibling(out.getFileName().toString().replaceFirst("\\.npy$", "") + ".labels.npy");
    }

    /** Writes {@code f}'s values to {@code out} and its labels to {@link #labelsFile}. */
    public static void write(Samples f, Path out, boolean half, boolean force) {
        long[] shape = f.batchShape(f.size());
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact((half ? 2L : 4L) * f.size() * (shape.length > 1 ? f.sample(0).remaining() : 1)))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < f.size(); i++) {
            var v = f.sample(i);
            while (v.hasRemaining()) {
                float x = v.get();
                if (half) {
                    b.putShort(graft.ir.Half.fromFloat(x));
                } else {
                    b.putFloat(x);
                }
            }
        }
        b.flip();
        Npy.write(out, half ? DataType.FLOAT16 : DataType.FLOAT, shape, b, force);
        long[] l = f.labels();
        ByteBuffer lb = ByteBuffer.allocate(l.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        lb.asLongBuffer().put(l);
        Npy.write(labelsFile(out), DataType.INT64, new long[] {l.length}, lb, force);
    }
}
