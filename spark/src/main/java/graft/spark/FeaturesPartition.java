package graft.spark;

import graft.data.ImageShape;
import graft.data.Samples;
import graft.error.MalformedModelException;
import graft.runtime.OrtRunner;
import graft.train.Trainer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.CollectionAccumulator;

/**
 * One partition of a features job on an executor: {@code binaryFile} rows in (path, content),
 * {@code batch} at a time decoded by graft's own image path ({@link ImageShape#decode}), run
 * through the executor's one session ({@link ExecutorModels}) by {@link Trainer#features}, the
 * single-machine loop, and rows (path, label, features) out. Rows are pulled lazily, so a
 * partition holds one batch of images at a time. An undecodable image fails the task (naming
 * it) or, with {@code rejected} set, is added there as "path TAB reason" and left out.
 */
final class FeaturesPartition implements MapPartitionsFunction<Row, Row> {
    private final ModelRef model;
    private final String in;
    private final String out;
    private final boolean nhwc;
    private final ImageShape shape;
    private final int batch;
    private final List<String> classes;
    private final CollectionAccumulator<String> rejected;

    FeaturesPartition(ModelRef model, String in, String out, boolean nhwc, ImageShape shape, int batch, List<String> classes,
                      CollectionAccumulator<String> rejected) {
        this.model = model;
        this.in = in;
        this.out = out;
        this.nhwc = nhwc;
        this.shape = shape;
        this.batch = batch;
        this.classes = List.copyOf(classes);
        this.rejected = rejected;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private Iterator<Row> current = Collections.emptyIterator();

            @Override
            public boolean hasNext() {
                while (!current.hasNext() && rows.hasNext()) {
                    current = batchOf(rows);
                }
                return current.hasNext();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return current.next();
            }
        };
    }

    /** The next batch of up to {@code batch} images of {@code rows}, run. */
    private Iterator<Row> batchOf(Iterator<Row> rows) {
        List<String> paths = new ArrayList<>();
        List<Long> labels = new ArrayList<>();
        float[] data = new float[batch * shape.values()];
        while (paths.size() < batch && rows.hasNext()) {
            Row r = rows.next();
            String path = r.getString(r.fieldIndex("path"));
            try {
                shape.decode(r.getAs("content"), ImageRows.display(path), data, paths.size() * shape.values());
            } catch (MalformedModelException e) {
                if (rejected == null) {
                    throw e;
                }
                rejected.add(ImageRows.display(path) + "\t" + e.getMessage());
                continue;
            }
            paths.add(path);
            labels.add((long) ImageRows.label(path, classes));
        }
        if (paths.isEmpty()) {
            return Collections.emptyIterator();
        }
        int n = paths.size();
        float[] exact = n == batch ? data : java.util.Arrays.copyOf(data, n * shape.values());
        Samples s = shape.samples(exact, labels.stream().mapToLong(Long::longValue).toArray(), classes);
        OrtRunner session = ExecutorModels.session(model.local());
        Samples f = Trainer.features(session, in, out, nhwc, s, batch, null);
        List<Row> result = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            var v = f.sample(i);
            float[] x = new float[v.remaining()];
            v.get(x);
            result.add(RowFactory.create(paths.get(i), labels.get(i), x));
        }
        return result.iterator();
    }
}
