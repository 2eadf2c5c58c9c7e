package graft.spark;

import graft.ir.Tensor;
import graft.runtime.OrtRunner;
import graft.validate.Compare;
import graft.validate.Images;
import graft.validate.Validation;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;

/**
 * One partition of a distributed validation on an executor: its images decoded for each model
 * with that model's own preprocessing ({@link Images.Feed}), both models run by ONNX Runtime
 * ({@code batch} images per run, one session per model per executor JVM), and every output kept
 * for the two passes of the comparison ({@link Outputs}).
 */
final class ValidatePartition implements FlatMapFunction<Iterator<Row>, ValidatePartition.Outputs> {
    private final ModelRef reference;
    private final ModelRef candidate;
    private final Images.Feed feedA;
    private final Images.Feed feedB;
    private final int batch;

    ValidatePartition(ModelRef reference, ModelRef candidate, Images.Feed feedA, Images.Feed feedB, int batch) {
        this.reference = reference;
        this.candidate = candidate;
        this.feedA = feedA;
        this.feedB = feedB;
        this.batch = batch;
    }

    /** A partition's outputs: per output of either model (in the model's output order), its values over the partition's images and their shape. */
    static final class Outputs implements Serializable {
        final LinkedHashMap<String, float[]> ref = new LinkedHashMap<>();
        final LinkedHashMap<String, long[]> refShape = new LinkedHashMap<>();
        final LinkedHashMap<String, float[]> cand = new LinkedHashMap<>();
        final LinkedHashMap<String, long[]> candShape = new LinkedHashMap<>();

        /** The joined outputs of the partition's runs ({@link Validation.Joined}), as values and shapes. */
        static void put(Map<String, float[]> values, Map<String, long[]> shapes, Map<String, Tensor> joined) {
            joined.forEach((name, t) -> {
                values.put(name, t.toFloats());
                shapes.put(name, t.shape().clone());
            });
        }

        static Tensor tensor(float[] v, long[] shape) {
            return Tensor.ofFloats(shape, v);
        }
    }

    @Override
    public Iterator<Outputs> call(Iterator<Row> rows) {
        Validation.Joined ref = new Validation.Joined();
        Validation.Joined cand = new Validation.Joined();
        boolean any = false;
        while (rows.hasNext()) {
            List<Row> chunk = new ArrayList<>();
            while (chunk.size() < batch && rows.hasNext()) {
                chunk.add(rows.next());
            }
            ref.add(run(chunk, reference, feedA), chunk.size());
            cand.add(run(chunk, candidate, feedB), chunk.size());
            any = true;
        }
        if (!any) {
            return Collections.emptyIterator();
        }
        Outputs o = new Outputs();
        Outputs.put(o.ref, o.refShape, ref.tensors());
        Outputs.put(o.cand, o.candShape, cand.tensors());
        return List.of(o).iterator();
    }

    private static Map<String, Tensor> run(List<Row> chunk, ModelRef model, Images.Feed feed) {
        int per = feed.shape().values();
        float[] chw = new float[chunk.size() * per];
        for (int i = 0; i < chunk.size(); i++) {
            Row r = chunk.get(i);
            feed.shape().decode(r.getAs("content"), ImageRows.display(r.getString(r.fieldIndex("path"))), chw, i * per);
        }
        OrtRunner session = ExecutorModels.session(model.local());
        return session.run(Map.of(feed.input(), feed.batch(chw, chunk.size())));
    }

    /** The largest |reference value| of each reference output in {@code o}. */
    static Map<String, Double> peaks(Outputs o) {
        Map<String, Double> r = new LinkedHashMap<>();
        o.ref.forEach((k, v) -> r.put(k, Compare.peak(v)));
        return r;
    }

    /**
     * Each (reference output, candidate output) pair's sums in {@code o}, per layout under which
     * the candidate reads as the reference ({@link Compare#readings}); null for a pair no layout reconciles.
     */
    static List<Map<String, Compare.Sums>> sums(Outputs o, List<String[]> pairs, Map<String, Double> floors, Compare.Tolerance tol) {
        List<Map<String, Compare.Sums>> r = new ArrayList<>();
        for (String[] p : pairs) {
            if (p[1] == null) {
                r.add(null);
                continue;
            }
            Tensor ref = Outputs.tensor(o.ref.get(p[0]), o.refShape.get(p[0]));
            Tensor cand = Outputs.tensor(o.cand.get(p[1]), o.candShape.get(p[1]));
            Map<String, float[]> readings = Compare.readings(cand, ref);
            if (readings.isEmpty()) {
                r.add(null);
                continue;
            }
            int k = Compare.topK(cand.shape(), ref.shape()) ? (int) ref.shape()[1] : 0;
            float[] b = o.ref.get(p[0]);
            Map<String, Compare.Sums> m = new LinkedHashMap<>();
            readings.forEach((layout, a) -> m.put(layout, Compare.Sums.over(a, b, floors.get(p[0]), tol, k)));
            r.add(m);
        }
        return r;
    }
}
