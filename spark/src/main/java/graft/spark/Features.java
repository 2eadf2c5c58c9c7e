package graft.spark;

import graft.data.ImageShape;
import graft.ir.Graph;
import graft.ir.TensorType;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;

/**
 * A features job's plan, made on the driver: the cut model's input and output names, how images
 * are decoded and fed, and what the output column says about where the features came from. The
 * features column's metadata ({@code graft.model}, {@code graft.model.sha256}, {@code graft.upto},
 * {@code graft.shape}) is part of Spark's schema, which Spark keeps in each Parquet file's
 * key-value metadata ({@code org.apache.spark.sql.parquet.row.metadata}).
 */
record Features(String in, String out, long[] shape, ImageShape image, boolean nhwc, int batch, Metadata metadata) {
    static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("label", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    static Features of(Graph prefix, ImageShape image, boolean nhwc, int batch, String sha256, String modelName, String upto) {
        String out = prefix.outputs().get(0).name();
        TensorType t = prefix.type(out) != null ? prefix.type(out) : prefix.outputs().get(0).type();
        long[] shape = null;
        if (t != null && t.shape() != null && t.shape().rank() >= 1) {
            shape = new long[t.shape().rank() - 1];
            for (int i = 1; i < t.shape().rank(); i++) {
                shape[i - 1] = t.shape().dim(i).isFixed() ? t.shape().dim(i).value() : -1;
            }
        }
        MetadataBuilder m = new MetadataBuilder().putString("graft.model", modelName).putString("graft.model.sha256", sha256)
                .putString("graft.upto", upto);
        if (shape != null && java.util.Arrays.stream(shape).allMatch(d -> d >= 0)) {
            m.putLongArray("graft.shape", shape);
        } else {
            shape = null;
        }
        return new Features(prefix.inputs().get(0).name(), out, shape, image, nhwc, batch, m.build());
    }

    /** (path, label, features) for each image of {@code images} (binaryFile rows), computed on the executors. */
    Dataset<Row> run(Dataset<Row> images, ModelRef model, List<String> classes, CollectionAccumulator<String> rejected) {
        Dataset<Row> rows = images.select("path", "content").mapPartitions(
                new FeaturesPartition(model, in, out, nhwc, image, batch, classes, rejected), Encoders.row(SCHEMA));
        Column features = functions.col("features").as("features", metadata);
        return rows.select(functions.col("path"), functions.col("label"), features);
    }

    /** One sample's shape: the model's, else the length of {@code first}'s features. */
    long[] sampleShape(Row first) {
        if (shape != null) {
            return shape.clone();
        }
        return first == null ? new long[] {-1} : new long[] {values(first).length};
    }

    /** A row's features as floats (Spark hands an array column back as a Scala sequence). */
    static float[] values(Row r) {
        List<Float> l = r.getList(2);
        float[] x = new float[l.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = l.get(i);
        }
        return x;
    }
}
