package graft.spark;

import graft.data.ImageShape;
import graft.data.InputLayout;
import graft.error.UsageException;
import graft.io.ModelFormat;
import graft.io.Options;
import graft.ir.Graph;
import graft.ir.Preprocessing;
import graft.ir.ShapeInference;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * graft's Java API on Spark, for {@code spark-shell} and jobs of one's own:
 * <pre>
 *   var images = spark.read().format("binaryFile").load("/data/photos/*&#47;*");
 *   var feats = graft.spark.GraftSpark.features(spark, Path.of("vgg16.h5"), "block5_pool", images);
 * </pre>
 * The model is read and cut on the driver, written as ONNX with external data to a temporary
 * folder and shipped to the executors with {@code addFile} (a file, never a broadcast byte
 * array); each executor opens one ONNX Runtime session on it. Images are decoded and
 * preprocessed by graft's own code with the model's {@code preprocess.*} metadata, as
 * {@code graft features} does with no preprocessing flags.
 */
public final class GraftSpark {
    private GraftSpark() {
    }

    /**
     * (path, label, features) for each row of {@code images} ({@code binaryFile} rows: path and
     * content), computed lazily when the result is used: features of {@code model} (any format
     * graft reads) up to layer {@code upto} as a float array, flattened, with the model's name,
     * SHA-256, the layer and the feature shape in the column's metadata; label the index of the
     * image's folder among the sorted folder names of {@code images}.
     */
    public static Dataset<Row> features(SparkSession spark, Path model, String upto, Dataset<Row> images) {
        return features(spark, model, upto, images, 32);
    }

    /** As {@link #features(SparkSession, Path, String, Dataset)}, {@code batch} images per ONNX Runtime run. */
    public static Dataset<Row> features(SparkSession spark, Path model, String upto, Dataset<Row> images, int batch) {
        Prepared p = prepare(model, upto);
        ModelRef ref = ModelRef.ship(spark, p.prefix());
        List<String> classes = ImageRows.classes(images);
        Features f = Features.of(p.prefix(), p.shape(), p.nhwc(), batch, graft.io.FileHash.sha256(model), model.getFileName().toString(), upto);
        return f.run(images, ref, classes, null);
    }

    /** The cut model and how images feed it, as single-machine features makes them with no preprocessing flags. */
    record Prepared(Graph prefix, ImageShape shape, boolean nhwc) {
    }

    static Prepared prepare(Path model, String upto) {
        Graph g = read(model);
        int window;
        Preprocessing pre;
        try {
            window = Preprocessing.cropSize(g.metadata());
            pre = Preprocessing.of(g.metadata());
        } catch (IllegalArgumentException e) {
            throw new UsageException("model '" + model + "': " + e.getMessage());
        }
        ImageShape shape = ImageShape.of(g, null, window, pre);
        ImageShape.fixInput(g, new long[] {shape.channels(), shape.h(), shape.w()}, window, InputLayout.channelsLast(g));
        ShapeInference.run(g);
        Graph prefix = graft.train.Subgraphs.prefix(g, graft.train.Subgraphs.outputOf(g, graft.surgery.LayerRef.resolve(g, "upto", upto)));
        graft.surgery.KerasLayout.nativeOutputs(prefix);
        int side = window > 0 ? window : shape.h();
        int width = window > 0 ? window : shape.w();
        return new Prepared(prefix, shape, InputLayout.feedsNhwc(prefix, new long[] {shape.channels(), side, width}));
    }

    /** The model in whichever format claims it (ONNX, Keras .h5/.keras, Caffe). */
    static Graph read(Path model) {
        for (ModelFormat f : List.<ModelFormat>of(new graft.onnx.OnnxFormat(), new graft.keras.KerasFormat(), new graft.caffe.CaffeFormat())) {
            if (f.claims(model)) {
                Graph g = f.read(model, Options.none());
                g.metadata().put(ModelFormat.READ_FORMAT, f.name());
                return g;
            }
        }
        throw new UsageException("model '" + model + "': cannot tell its format from the extension (.onnx, .h5, .keras, .prototxt)");
    }
}
