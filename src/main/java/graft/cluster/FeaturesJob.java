package graft.cluster;

import graft.data.ImageShape;
import graft.data.Samples;
import graft.ir.Graph;
import java.nio.file.Path;

/**
 * {@code graft features --spark}: run {@code prefix} (the model cut after {@code upto}) over the
 * image folder {@code data}, decoded as {@code shape} and fed NHWC when {@code nhwc},
 * {@code batch} images at a time, and write {@code out}: Parquet (path, label, features) or, for
 * a name ending in .npy, the files single-machine {@code graft features} writes.
 * {@code skipBadImages}: an undecodable image is left out and listed in {@code _rejected} beside
 * the output instead of failing the job. {@code modelSha256} is the model file's SHA-256, kept
 * in the Parquet schema's metadata. {@code samples}: array data (.npy, IDX) loaded on the driver as
 * single-machine {@code features} loads it ({@code shape} null), sent to the executors in
 * contiguous blocks, one per partition; .npy output only.
 */
public record FeaturesJob(Path model, String modelSha256, String upto, Graph prefix, Path data, ImageShape shape, boolean nhwc,
                          int batch, Path out, boolean half, boolean force, boolean skipBadImages, Cluster.Settings settings,
                          Samples samples) {

    /** An image folder's job: the executors read and decode the images. */
    public FeaturesJob(Path model, String modelSha256, String upto, Graph prefix, Path data, ImageShape shape, boolean nhwc, int batch,
                       Path out, boolean half, boolean force, boolean skipBadImages, Cluster.Settings settings) {
        this(model, modelSha256, upto, prefix, data, shape, nhwc, batch, out, half, force, skipBadImages, settings, null);
    }

    /** What was written: {@code count} samples of {@code shape} (without the batch axis), {@code rejected} images left out. */
    public record Result(long count, long[] shape, long rejected, Path rejectedList) {
    }
}
