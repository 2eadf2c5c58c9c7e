package graft.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A change of layout recorded on a weight and applied once, when the bytes are written or
 * handed to a runtime. Importers record them instead of transposing eagerly.
 */
public interface LayoutTransform {
    /** Shape after the transform, given the shape before. */
    long[] outputShape(long[] inputShape);

    /** Applies the transform; the result is a new little-endian buffer (a copy). */
    ByteBuffer apply(ByteBuffer source, DataType dtype, long[] inputShape);

    String describe();

    /**
     * View the tensor as {@code view} (same element count), permute its axes by {@code perm},
     * and reshape the result to {@code result}. Covers HWIO to OIHW, (in, out) to (out, in),
     * and the Flatten-order row permutation of a Dense kernel (H,W,C,out) to (C,H,W,out).
     */
    static LayoutTransform permute(long[] view, int[] perm, long[] result) {
        return new Permute(view.clone(), perm.clone(), result.clone());
    }

    /** Plain transpose of the tensor's own axes. */
    static LayoutTransform transpose(long[] shape, int... perm) {
        long[] out = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = shape[perm[i]];
        }
        return new Permute(shape.clone(), perm.clone(), out);
    }

    /** Rotates the last two axes by 180 degrees (Theano-ordered kernels are stored flipped). */
    static LayoutTransform flipSpatial() {
        return new FlipSpatial();
    }

    /** Converts DOUBLE to FLOAT (Caffe double_data, Keras 1 float64 weights). */
    static LayoutTransform toFloat() {
        return new ToFloat();
    }

    record Permute(long[] view, int[] perm, long[] result) implements LayoutTransform {
        @Override
        public long[] outputShape(long[] inputShape) {
            if (Shape.elementCount(inputShape) != Shape.elementCount(view)) {
                throw new IllegalArgumentException("permute view does not match weight size");
            }
            return result.clone();
        }

        /** True when the bytes stay where they are (a reshape): every axis keeps its place. */
        public boolean isIdentity() {
            for (int i = 0; i < perm.length; i++) {
                if (perm[i] != i) {
                    return false;
                }
            }
            return true;
        }

        /**
         * This permutation followed by {@code next} as one permutation, or null when the two views
         * split the intermediate tensor's axes incompatibly (then both stay pending). The two
         * intermediate layouts (this one's permuted axes, {@code next}'s view) are refined to their
         * common sub-axes, each sub-axis traced back to this view's axes; the result's adjacent
         * sub-axes that stay adjacent are merged again. An importer's HWIO-to-OIHW and a writer's
         * OIHW-to-HWIO compose to the identity, which the writer then copies without a transpose.
         */
        public Permute then(Permute next) {
            int n1 = view.length;
            long[] mid = new long[n1];
            for (int k = 0; k < n1; k++) {
                mid[k] = view[perm[k]];
            }
            long[] nv = next.view;
            if (Shape.elementCount(mid) != Shape.elementCount(nv)) {
                return null;
            }
            java.util.List<long[]> subs = new java.util.ArrayList<>(); // {size, owner in mid, owner in nv}
            int i = 0;
            int j = 0;
            long ra = n1 > 0 ? mid[0] : 1; // what is left of axis i of the intermediate layout
            long rb = nv.length > 0 ? nv[0] : 1; // and of next's view axis j
            while (true) {
                while (ra == 1 && i < n1) {
                    i++;
                    ra = i < n1 ? mid[i] : 1;
                }
                while (rb == 1 && j < nv.length) {
                    j++;
                    rb = j < nv.length ? nv[j] : 1;
                }
                if (i >= n1 || j >= nv.length) {
                    break;
                }
                long size = Math.min(ra, rb);
                if (size <= 0 || Math.max(ra, rb) % size != 0) {
                    return null; // zero elements, or sizes that do not refine
                }
                subs.add(new long[] {size, i, j});
                ra /= size;
                rb /= size;
            }
            if (i < n1 || j < nv.length) {
                return null;
            }
            int r = subs.size();
            // the input view refined: each original axis's sub-axes, in the original axis order
            int[] midPosOfAxis = new int[n1];
            for (int k = 0; k < n1; k++) {
                midPosOfAxis[perm[k]] = k;
            }
            long[] refined = new long[r];
            int[] inputIndex = new int[r];
            int at = 0;
            for (int axis = 0; axis < n1; axis++) {
                for (int t = 0; t < r; t++) {
                    if (subs.get(t)[1] == midPosOfAxis[axis]) {
                        refined[at] = subs.get(t)[0];
                        inputIndex[t] = at++;
                    }
                }
            }
            int[] order = new int[r];
            at = 0;
            for (int m = 0; m < next.perm.length; m++) {
                for (int t = 0; t < r; t++) {
                    if (subs.get(t)[2] == next.perm[m]) {
                        order[at++] = inputIndex[t];
                    }
                }
            }
            // merge runs of output axes that are consecutive input axes
            java.util.List<int[]> runs = new java.util.ArrayList<>(); // {first input axis, last input axis}
            for (int t = 0; t < r; t++) {
                if (!runs.isEmpty() && runs.get(runs.size() - 1)[1] + 1 == order[t]) {
                    runs.get(runs.size() - 1)[1] = order[t];
                } else {
                    runs.add(new int[] {order[t], order[t]});
                }
            }
            int[][] byInput = runs.toArray(new int[0][]);
            Integer[] sorted = new Integer[byInput.length];
            for (int t = 0; t < sorted.length; t++) {
                sorted[t] = t;
            }
            java.util.Arrays.sort(sorted, java.util.Comparator.comparingInt(t -> byInput[t][0]));
            long[] mergedView = new long[sorted.length];
            int[] runPos = new int[sorted.length];
            for (int q = 0; q < sorted.length; q++) {
                int[] run = byInput[sorted[q]];
                long size = 1;
                for (int a = run[0]; a <= run[1]; a++) {
                    size *= refined[a];
                }
                mergedView[q] = size;
                runPos[sorted[q]] = q;
            }
            return new Permute(mergedView, runPos, next.result.clone());
        }

        @Override
        public ByteBuffer apply(ByteBuffer src, DataType dtype, long[] inputShape) {
            if (isIdentity()) {
                return src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            }
            if (arrayTranspose(dtype)) {
                return transposeInts(src, null);
            }
            ByteBuffer out = ByteBuffer.allocateDirect(Math.toIntExact(Shape.elementCount(view) * dtype.size())).order(ByteOrder.LITTLE_ENDIAN);
            try {
                run(src, dtype, out, null);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // no channel, no I/O
            }
            out.flip();
            return out;
        }

        /**
         * Writes the permuted bytes to {@code ch} through a few-MB buffer instead of building the
         * whole permuted tensor: a 400 MB Dense kernel costs no extra 400 MB.
         */
        public void stream(ByteBuffer src, DataType dtype, java.nio.channels.WritableByteChannel ch) throws java.io.IOException {
            if (isIdentity()) {
                ByteBuffer same = src.duplicate();
                while (same.hasRemaining()) {
                    ch.write(same);
                }
                return;
            }
            long bytes = Shape.elementCount(view) * dtype.size();
            int stage = (int) Math.min(8 << 20, bytes);
            if (TiledTranspose.applies(view, perm, dtype, stage)) {
                TiledTranspose.write(src, view, perm, ch, Scratch.get().bytes(stage));
                return;
            }
            if (arrayTranspose(dtype)) {
                ByteBuffer t = transposeInts(src, Scratch.get());
                while (t.hasRemaining()) {
                    ch.write(t);
                }
                return;
            }
            long row = view.length == 0 ? dtype.size() : view[perm[view.length - 1]] * dtype.size();
            run(src, dtype, ByteBuffer.allocateDirect((int) Math.max(4 << 20, row)).order(ByteOrder.LITTLE_ENDIAN), ch);
        }

        /**
         * As {@link #stream(ByteBuffer, DataType, java.nio.channels.WritableByteChannel)}, gathering
         * through the caller's {@code stage} (its contents are overwritten) where the permutation
         * allows: a writer that already holds a staging buffer then touches no fresh memory for it.
         */
        public void stream(ByteBuffer src, DataType dtype, java.nio.channels.WritableByteChannel ch, ByteBuffer stage) throws java.io.IOException {
            if (!isIdentity() && TiledTranspose.applies(view, perm, dtype, stage.capacity())) {
                TiledTranspose.write(src, view, perm, ch, stage);
            } else {
                stream(src, dtype, ch);
            }
        }

        /** Receives one contiguous run of source bytes (offset from the source's start, length). */
        @FunctionalInterface
        public interface RunSink {
            void run(long offset, long length) throws java.io.IOException;
        }

        /** True when the last axis stays last, so the output is a sequence of whole source rows. */
        public boolean keepsRows() {
            return view.length > 0 && perm[view.length - 1] == view.length - 1;
        }

        /**
         * For a permutation that {@link #keepsRows() keeps rows}: the source byte runs whose
         * concatenation, in order, is the output (adjacent rows coalesced). Lets a writer copy a
         * Flatten row permutation file to file, one region per row, with no element loop.
         */
        public void rowRuns(DataType dtype, RunSink sink) throws java.io.IOException {
            if (!keepsRows()) {
                throw new IllegalStateException("permutation " + describe() + " moves the last axis");
            }
            int rank = view.length;
            long rowBytes = view[rank - 1] * dtype.size();
            long[] inStride = new long[rank];
            long s = 1;
            for (int i = rank - 1; i >= 0; i--) {
                inStride[i] = s;
                s *= view[i];
            }
            long rows = rowBytes == 0 ? 0 : Shape.elementCount(view) / view[rank - 1];
            long[] idx = new long[rank - 1];
            long off = 0;
            long runStart = -1;
            long runLen = 0;
            for (long r = 0; r < rows; r++) {
                long at = off * dtype.size();
                if (runStart >= 0 && runStart + runLen == at) {
                    runLen += rowBytes;
                } else {
                    if (runStart >= 0) {
                        sink.run(runStart, runLen);
                    }
                    runStart = at;
                    runLen = rowBytes;
                }
                for (int d = rank - 2; d >= 0; d--) {
                    idx[d]++;
                    off += inStride[perm[d]];
                    if (idx[d] < view[perm[d]]) {
                        break;
                    }
                    off -= inStride[perm[d]] * view[perm[d]];
                    idx[d] = 0;
                }
            }
            if (runStart >= 0) {
                sink.run(runStart, runLen);
            }
        }

        /**
         * A 4-byte transpose that moves the last axis (HWIO to OIHW kernels) done on int arrays:
         * one bulk copy in, a source-order scatter with no per-element buffer calls, one bulk copy
         * out. Used up to 16 MB, so the two arrays are cheap; the result is a copy.
         */
        private ByteBuffer transposeInts(ByteBuffer src, Scratch scratch) {
            int rank = view.length;
            int n = Math.toIntExact(Shape.elementCount(view));
            int[] a = scratch == null ? new int[n] : scratch.ints(0, n);
            src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a, 0, n);
            int[] b = scratch == null ? new int[n] : scratch.ints(1, n);
            // Walk the source in order (sequential reads, a long inner loop over its last axis)
            // and scatter into the output: a kernel's output inner axis (kw) is only a few long.
            int[] outStride = new int[rank];
            int st = 1;
            for (int i = rank - 1; i >= 0; i--) {
                outStride[i] = st;
                st *= (int) view[perm[i]];
            }
            int[] strideOfInputAxis = new int[rank];
            for (int i = 0; i < rank; i++) {
                strideOfInputAxis[perm[i]] = outStride[i];
            }
            int last = rank - 1;
            int inner = (int) view[last];
            int innerStride = strideOfInputAxis[last];
            int[] idx = new int[rank];
            int off = 0;
            for (int i = 0; i < n; i += inner) {
                for (int k = 0, q = off; k < inner; k++, q += innerStride) {
                    b[q] = a[i + k];
                }
                for (int d = last - 1; d >= 0; d--) {
                    idx[d]++;
                    off += strideOfInputAxis[d];
                    if (idx[d] < view[d]) {
                        break;
                    }
                    off -= strideOfInputAxis[d] * (int) view[d];
                    idx[d] = 0;
                }
            }
            ByteBuffer out = scratch == null ? ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN) : scratch.bytes(n * 4);
            out.asIntBuffer().put(b, 0, n);
            return out;
        }

        /**
         * Whether {@link #transposeInts} applies: 4-byte elements, last axis moved, at most 16 MB
         * (conv kernels; bigger Dense transposes stream through a small buffer to keep peak RSS low).
         */
        private boolean arrayTranspose(DataType dtype) {
            return dtype.size() == 4 && view.length > 1 && !keepsRows() && Shape.elementCount(view) <= (4L << 20);
        }

        private void run(ByteBuffer src, DataType dtype, ByteBuffer out, java.nio.channels.WritableByteChannel ch) throws java.io.IOException {
            int es = dtype.size();
            int rank = view.length;
            long n = Shape.elementCount(view);
            long[] inStride = new long[rank];
            long s = 1;
            for (int i = rank - 1; i >= 0; i--) {
                inStride[i] = s;
                s *= view[i];
            }
            long[] outDims = new long[rank];
            long[] strideForOut = new long[rank];
            for (int i = 0; i < rank; i++) {
                outDims[i] = view[perm[i]];
                strideForOut[i] = inStride[perm[i]];
            }
            ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int base = in.position();
            long[] idx = new long[rank];
            long off = 0;
            int last = rank - 1;
            long innerLen = rank == 0 ? 1 : outDims[last];
            long innerStride = rank == 0 ? 0 : strideForOut[last];
            for (long o = 0; o < n; o += innerLen) {
                if (ch != null && out.remaining() < innerLen * es) {
                    out.flip();
                    while (out.hasRemaining()) {
                        ch.write(out);
                    }
                    out.clear();
                }
                if (innerStride == 1) {
                    // the last axis stays last: copy the whole row at once
                    ByteBuffer rowBytes = in.duplicate();
                    rowBytes.limit(base + (int) ((off + innerLen) * es)).position(base + (int) (off * es));
                    out.put(rowBytes);
                } else if (es == 4) {
                    for (long k = 0; k < innerLen; k++) {
                        out.putInt(in.getInt(base + (int) ((off + k * innerStride) * 4)));
                    }
                } else {
                    for (long k = 0; k < innerLen; k++) {
                        int p = base + (int) ((off + k * innerStride) * es);
                        for (int b = 0; b < es; b++) {
                            out.put(in.get(p + b));
                        }
                    }
                }
                for (int d = last - 1; d >= 0; d--) {
                    idx[d]++;
                    off += strideForOut[d];
                    if (idx[d] < outDims[d]) {
                        break;
                    }
                    off -= strideForOut[d] * outDims[d];
                    idx[d] = 0;
                }
            }
            if (ch != null) {
                out.flip();
                while (out.hasRemaining()) {
                    ch.write(out);
                }
            }
        }

        @Override
        public String describe() {
            return "permute" + java.util.Arrays.toString(perm) + " of " + java.util.Arrays.toString(view);
        }
    }

    final class FlipSpatial implements LayoutTransform {
        @Override
        public long[] outputShape(long[] inputShape) {
            return inputShape.clone();
        }

        @Override
        public ByteBuffer apply(ByteBuffer src, DataType dtype, long[] shape) {
            int es = dtype.size();
            int r = shape.length;
            int h = (int) shape[r - 2];
            int w = (int) shape[r - 1];
            long planes = Shape.elementCount(shape) / ((long) h * w);
            ByteBuffer in = src.duplicate();
            int base = in.position();
            ByteBuffer out = ByteBuffer.allocateDirect(in.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            for (long p = 0; p < planes; p++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        long from = ((p * h + (h - 1 - y)) * w + (w - 1 - x)) * es;
                        for (int b = 0; b < es; b++) {
                            out.put(in.get(base + (int) from + b));
                        }
                    }
                }
            }
            out.flip();
            return out;
        }

        @Override
        public String describe() {
            return "flip spatial";
        }
    }

    final class ToFloat implements LayoutTransform {
        @Override
        public long[] outputShape(long[] inputShape) {
            return inputShape.clone();
        }

        @Override
        public ByteBuffer apply(ByteBuffer src, DataType dtype, long[] shape) {
            ByteBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            int n = in.remaining() / 8;
            ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out.putFloat((float) in.getDouble());
            }
            out.flip();
            return out;
        }

        @Override
        public String describe() {
            return "float64 to float32";
        }
    }
}
