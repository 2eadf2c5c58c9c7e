package graft.spark;

import graft.ir.Tensor;
import graft.runtime.OrtRunner;
import graft.validate.Compare;
import graft.validate.Images;
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

        static void append(Map<String, float[]> values, Map<String, long[]> shapes, Map<String, Tensor> got) {
            for (Map.Entry<String, Tensor> e : got.entrySet()) {
                float[] v = e.getValue().toFloats();
                long[] s = e.getValue().shape().clone();
                float[] old = values.get(e.getKey());
                if (old == null) {
                    values.put(e.getKey(), v);
                    shapes.put(e.getKey(), s);
                } else {
                    float[] both = java.util.Arrays.copyOf(old, old.length + v.length);
                    System.arraycopy(v, 0, both, old.length, v.length);
                    values.put(e.getKey(), both);
                    shapes.get(e.getKey())[0] += s.length > 0 ? s[0] : 0;
                }
            }
        }

        static Tensor tensor(float[] v, long[] shape) {
            return Tensor.ofFloats(shape, v);
        }
    }

    @Override
    public Iterator<Outputs> call(Iterator<Row> rows) {
        Outputs o = new Outputs();
        boolean any = false;
        while (rows.hasNext()) {
            List<Row> chunk = new ArrayList<>();
            while (chunk.size() < batch && rows.hasNext()) {
                chunk.add(rows.next());
            }
            run(chunk, reference, feedA, o.ref, o.refShape);
            run(chunk, candidate, feedB, o.cand, o.candShape);
            any = true;
        }
        return any ? List.of(o).iterator() : Collections.emptyIterator();
    }

    private static void run(List<Row> chunk, ModelRef model, Images.Feed feed, Map<String, float[]> values, Map<String, long[]> shapes) {
        int per = feed.shape().values();
        float[] chw = new float[chunk.size() * per];
        for (int i = 0; i < chunk.size(); i++) {
            Row r = chunk.get(i);
            feed.shape().decode(r.getAs("content"), ImageRows.display(r.getString(r.fieldIndex("path"))), chw, i * per);
        }
        OrtRunner session = ExecutorModels.session(model.local());
        Outputs.append(values, shapes, session.run(Map.of(feed.input(), feed.batch(chw, chunk.size()))));
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
