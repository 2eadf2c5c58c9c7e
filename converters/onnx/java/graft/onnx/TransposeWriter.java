package graft.onnx;

import graft.ir.LayoutTransform;
import graft.ir.Weight;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes large transposed weights (conv kernels HWIO to OIHW) on a second thread, each at the
 * place in the output the writer has left for it: the layout is fixed in advance, so the main
 * thread skips the weight's bytes and goes on with the next ones (VGG16's Dense kernels, copied
 * by the kernel) while this thread transposes, on the other core. When the main thread has
 * nothing else left to write it takes the remaining transposes from the same queue in
 * {@link #finish()}: a model whose weights are nearly all conv kernels (ResNet50: 90 of its
 * 98 MB) is transposed by both cores instead of one while the main thread waits. The output
 * bytes do not depend on the timing or on which thread took a weight. Positional writes of a
 * file channel take no position lock on Linux, so the two threads do not wait for each other.
 *
 * <p>Owns one helper thread (made on first use, a daemon) with its own 8 MB staging buffer, and
 * one for the writer thread's share; {@link #finish()} waits for every weight handed over and
 * reports the first failure. The weights' source buffers are only read. Used by one writer thread.
 */
final class TransposeWriter implements AutoCloseable {
    /** Smaller transposes are written in line: a thread hand-over costs more than they do. */
    static final long MIN_BYTES = 1 << 20;

    private ExecutorService helper;
    private final List<Future<?>> pending = new ArrayList<>();
    /** Weights handed over and not yet taken by either thread, in output order. */
    private final ConcurrentLinkedQueue<Job> queue = new ConcurrentLinkedQueue<>();
    /** The helper thread's stage. */
    private ByteBuffer stage;
    /** The writer thread's stage, for the transposes it takes in {@link #finish()}. */
    private ByteBuffer ownStage;

    private record Job(Weight w, FileChannel out, long position) {
        void run(ByteBuffer stage, String thread) throws IOException {
            w.writeTo(new At(out, position), stage);
            if (graft.io.Timing.detailed()) {
                graft.io.Timing.detail("onnx write: " + w.name() + " transposed on the " + thread + " thread");
            }
        }
    }

    /** True for a weight this writer should take: one pending axis permutation that moves the last axis, large. */
    static boolean suits(Weight w) {
        return w.byteSize() >= MIN_BYTES && w.pending().size() == 1
                && w.pending().get(0) instanceof LayoutTransform.Permute p && !p.keepsRows();
    }

    /** Hands {@code w} over, to be written at byte {@code position} of {@code out}. */
    void submit(Weight w, FileChannel out, long position) {
        if (helper == null) {
            helper = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "graft-transpose");
                t.setDaemon(true);
                return t;
            });
        }
        queue.add(new Job(w, out, position));
        // one helper task per job: each takes the next job still queued, if the writer thread has not
        pending.add(helper.submit(() -> {
            Job j = queue.poll();
            if (j != null) {
                if (stage == null) {
                    stage = ByteBuffer.allocateDirect(RowGather.STAGE);
                }
                j.run(stage, "second");
            }
            return null;
        }));
    }

    /**
     * Takes the transposes still queued on this (the writer's) thread, then waits for every weight
     * handed over; throws the first failure.
     */
    void finish() throws IOException {
        IOException first = null;
        for (Job j = queue.poll(); j != null; j = queue.poll()) {
            if (ownStage == null) {
                ownStage = ByteBuffer.allocateDirect(RowGather.STAGE);
            }
            try {
                j.run(ownStage, "writer");
            } catch (IOException | RuntimeException e) {
                first = e instanceof IOException io ? io : new IOException("transposing a weight failed: " + e, e);
                queue.clear();
                break;
            }
        }
        for (Future<?> f : pending) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (first == null) {
                    first = c instanceof IOException io ? io : new IOException("transposing a weight failed: " + c, c);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (first == null) {
                    first = new IOException("interrupted while weights were being transposed");
                }
            }
        }
        pending.clear();
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            if (helper != null) {
                helper.shutdown();
            }
        }
    }

    /** Writes sequentially from a fixed start, with positional writes that leave the channel's position alone. */
    private static final class At implements WritableByteChannel {
        private final FileChannel out;
        private long position;

        At(FileChannel out, long position) {
            this.out = out;
            this.position = position;
        }

        @Override
        public int write(ByteBuffer b) throws IOException {
            int n = out.write(b, position);
            position += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return out.isOpen();
        }

        @Override
        public void close() {
            // the channel belongs to the writer
        }
    }
}
