package graft.spark;

import graft.cluster.ValidateJob;
import graft.validate.Compare;
import graft.validate.Images;
import graft.validate.Metrics;
import graft.validate.Validation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code graft validate --images DIR --spark}: the comparison single-machine validate makes, with
 * the images spread over Spark partitions. Relative errors are floored against each reference
 * output's largest value over all images, so it takes two passes over the kept outputs: the
 * maxima first (exact), then each partition's sums ({@link Compare.Sums}), merged on the driver
 * in partition order: maxima and counts exactly, sums in float64.
 */
final class SparkValidate {
    private SparkValidate() {
    }

    static ValidateJob.Result run(ValidateJob job) {
        Images.Feed fa = Images.feed(job.reference(), job.hw());
        Images.Feed fb = Images.feed(job.candidate(), job.hw());
        long count = Images.imageFiles(job.images()).size();
        SparkSession spark = Sessions.start("graft validate", job.settings());
        try {
            ModelRef ra = ModelRef.ship(spark, job.reference());
            ModelRef rb = ModelRef.ship(spark, job.candidate());
            if (job.settings().partitions() > 0) {
                spark.conf().set("spark.sql.files.minPartitionNum", Integer.toString(job.settings().partitions()));
            }
            Path dir = job.images().toAbsolutePath();
            var rows = spark.read().format("binaryFile").load(dir.toUri().toString())
                    .filter(functions.col("path").rlike("(?i)\\.(png|jpe?g|bmp|gif)$")).select("path", "content");
            if (job.settings().partitions() > 0 && rows.rdd().getNumPartitions() > job.settings().partitions()) {
                rows = rows.coalesce(job.settings().partitions());
            }
            JavaRDD<ValidatePartition.Outputs> outs = rows.javaRDD()
                    .mapPartitions(new ValidatePartition(ra, rb, fa, fb, job.batch()))
                    .persist(StorageLevel.MEMORY_AND_DISK());
            List<ValidatePartition.Outputs> first = outs.take(1);
            if (first.isEmpty()) {
                throw new graft.error.UsageException("--images '" + job.images() + "': no image to compare");
            }
            ValidatePartition.Outputs shape = first.get(0);
            Map<String, Double> peaks = outs.map(ValidatePartition::peaks).reduce(SparkValidate::max);
            Map<String, Double> floors = new LinkedHashMap<>();
            peaks.forEach((k, v) -> floors.put(k, Compare.floor(v)));
            List<String[]> pairs = pairs(new ArrayList<>(shape.ref.keySet()), new ArrayList<>(shape.cand.keySet()));
            Compare.Tolerance tol = job.tolerance();
            List<List<Map<String, Compare.Sums>>> parts = outs.map(o -> ValidatePartition.sums(o, pairs, floors, tol)).collect();
            Map<String, long[]> refShapes = new LinkedHashMap<>();
            Map<String, long[]> candShapes = new LinkedHashMap<>();
            for (List<Map<String, long[]>> s : outs.map(o -> List.<Map<String, long[]>>of(o.refShape, o.candShape)).collect()) {
                add(refShapes, s.get(0));
                add(candShapes, s.get(1));
            }
            outs.unpersist();
            List<Metrics> metrics = new ArrayList<>();
            for (int i = 0; i < pairs.size(); i++) {
                metrics.add(merge(pairs.get(i), i, parts, refShapes, candShapes));
            }
            return new ValidateJob.Result(Validation.onnxRuntimeOutputs(job.reference(), job.candidate(), tol, metrics), count);
        } catch (Exception e) {
            throw Sessions.unwrap(e);
        } finally {
            spark.stop();
        }
    }

    /** Reference output name and the candidate output it is compared with (or null), as {@link Validation#compareOutputs} pairs them. */
    static List<String[]> pairs(List<String> refNames, List<String> candNames) {
        boolean byName = candNames.containsAll(refNames);
        List<String[]> r = new ArrayList<>();
        for (int i = 0; i < refNames.size(); i++) {
            String name = refNames.get(i);
            String c = byName ? name : i < candNames.size() ? candNames.get(i) : null;
            r.add(new String[] {name, c, c == null ? name : byName || c.equals(name) ? name : name + " ~ " + c});
        }
        return r;
    }

    private static Metrics merge(String[] pair, int i, List<List<Map<String, Compare.Sums>>> parts, Map<String, long[]> refShapes,
                                 Map<String, long[]> candShapes) {
        long[] rs = refShapes.get(pair[0]);
        if (pair[1] == null) {
            return Metrics.incomparable(pair[0], new long[0], rs, "the candidate has no output " + i);
        }
        long[] cs = candShapes.get(pair[1]);
        Map<String, Compare.Sums> all = null;
        for (List<Map<String, Compare.Sums>> p : parts) {
            Map<String, Compare.Sums> m = p.get(i);
            if (m == null) {
                all = null;
                break;
            }
            if (all == null) {
                all = new LinkedHashMap<>(m);
            } else {
                Map<String, Compare.Sums> next = new LinkedHashMap<>();
                for (var e : all.entrySet()) {
                    if (m.containsKey(e.getKey())) {
                        next.put(e.getKey(), e.getValue().plus(m.get(e.getKey())));
                    }
                }
                all = next;
            }
        }
        if (all == null || all.isEmpty()) {
            return Metrics.incomparable(pair[2], cs, rs, "shapes " + java.util.Arrays.toString(cs) + " and " + java.util.Arrays.toString(rs)
                    + " differ and no layout change reconciles them");
        }
        // as Compare.of: the first reading within tolerance, else the first
        Metrics chosen = null;
        for (var e : all.entrySet()) {
            Metrics m = e.getValue().metrics(pair[2], cs, rs, e.getKey());
            if (m.within()) {
                return m;
            }
            if (chosen == null) {
                chosen = m;
            }
        }
        return chosen;
    }

    private static void add(Map<String, long[]> total, Map<String, long[]> part) {
        part.forEach((k, s) -> {
            long[] t = total.get(k);
            if (t == null) {
                total.put(k, s.clone());
            } else {
                t[0] += s[0];
            }
        });
    }

    private static Map<String, Double> max(Map<String, Double> a, Map<String, Double> b) {
        Map<String, Double> r = new LinkedHashMap<>(a);
        b.forEach((k, v) -> r.merge(k, v, Math::max));
        return r;
    }
}
