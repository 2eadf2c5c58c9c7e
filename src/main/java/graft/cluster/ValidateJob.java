package graft.cluster;

import graft.ir.Graph;
import graft.validate.Compare;
import graft.validate.Validation;
import java.nio.file.Path;

/**
 * {@code graft validate A B --images DIR --spark}: ONNX Runtime on {@code reference} and on
 * {@code candidate} over every image of {@code images} (each model fed with its own
 * preprocessing, {@link graft.validate.Images#feed}), compared output by output as one machine
 * compares them; {@code batch} images per run on an executor.
 */
public record ValidateJob(Graph reference, Graph candidate, Path images, long[] hw, Compare.Tolerance tolerance, int batch,
                          Cluster.Settings settings) {

    /** The report: the same {@link Validation.Result} single-machine validate prints. */
    public record Result(Validation.Result result, long images) {
    }
}
