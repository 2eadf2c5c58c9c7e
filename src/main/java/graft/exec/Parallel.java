package graft.exec;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The executor's only concurrency: a loop over independent chunks (output channels, rows) run
 * on the common ForkJoin pool, so a two-core machine computes a convolution on both cores.
 * Each chunk writes a disjoint part of the output; nothing is shared mutably.
 */
final class Parallel {
    private Parallel() {
    }

    /** Number of chunks worth cutting a loop into: one per core, at least one. */
    static int chunks(int work) {
        int cores = Math.max(1, ForkJoinPool.getCommonPoolParallelism() + 1);
        return Math.max(1, Math.min(work, cores * 2));
    }

    /** Runs {@code body(i)} for i in [0, n), in parallel when {@code n * costEach} is large enough to pay for it. */
    static void range(int n, long costEach, IntConsumer body) {
        if (n <= 1 || (long) n * costEach < 50_000) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        IntStream.range(0, n).parallel().forEach(body);
    }

    /** Splits [0, n) into contiguous blocks and runs {@code body(lo, hi)} on each, in parallel. */
    static void blocks(int n, long costEach, BlockBody body) {
        int k = (long) n * costEach < 50_000 ? 1 : chunks(n);
        int per = (n + k - 1) / Math.max(1, k);
        range(k, (long) per * costEach, c -> {
            int lo = c * per;
            int hi = Math.min(n, lo + per);
            if (lo < hi) {
                body.run(lo, hi);
            }
        });
    }

    @FunctionalInterface
    interface BlockBody {
        void run(int lo, int hi);
    }
}
