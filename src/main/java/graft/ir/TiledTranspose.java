package graft.ir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * A 4-byte permutation whose first output axis is the source's last axis (HWIO to OIHW conv
 * kernels, (in, out) to (out, in) matrices), streamed to a channel in output order through a
 * caller's staging buffer. A block of output rows (the next few output channels) is gathered at
 * a time: for every position of the other axes, the block's elements lie next to each other in
 * the source (one bulk read of a cache line or two), and are spread over the block's rows of a
 * small tile (~1 MB, stays in cache). No copy of the whole source or the whole result is made:
 * besides the caller's stage, the memory touched is the tile, which is reused for every weight
 * of the thread. VGG16's 13 kernels (59 MB) took 250-300 ms this way in a fresh JVM against
 * 430-600 ms for a whole-tensor scatter on int arrays, most of the difference being fresh pages.
 *
 * <p>Stateless apart from the per-thread tile ({@link Scratch}); the source buffer is only read.
 */
final class TiledTranspose {
    /** Elements in a tile: 1 MB of ints, several output rows of a 3x3x512 kernel. */
    private static final int TILE = 1 << 18;

    private TiledTranspose() {
    }

    /** True when {@link #write} applies to this permutation with a stage of {@code stageBytes}. */
    static boolean applies(long[] view, int[] perm, DataType dtype, long stageBytes) {
        int rank = view.length;
        if (dtype.size() != 4 || rank < 2 || perm[0] != rank - 1 || Shape.elementCount(view) > Integer.MAX_VALUE) {
            return false;
        }
        long rowLen = Shape.elementCount(view) / Math.max(1, view[rank - 1]);
        return rowLen * 4 <= stageBytes && rowLen <= TILE;
    }

    /**
     * Writes {@code src} (little-endian, laid out as {@code view}) permuted by {@code perm} to
     * {@code ch}, gathering through {@code stage} (any byte order; its contents are overwritten).
     */
    static void write(ByteBuffer src, long[] view, int[] perm, WritableByteChannel ch, ByteBuffer stage) throws IOException {
        int rank = view.length;
        int[] dims = new int[rank];
        int[] stride = new int[rank];
        int s = 1;
        int[] inStride = new int[rank];
        for (int i = rank - 1; i >= 0; i--) {
            inStride[i] = s;
            s *= (int) view[i];
        }
        for (int k = 0; k < rank; k++) {
            dims[k] = (int) view[perm[k]];
            stride[k] = inStride[perm[k]];
        }
        int rows = dims[0];
        int rowLen = s / Math.max(1, rows);
        if (s == 0) {
            return;
        }
        int block = Math.max(1, Math.min(rows, TILE / rowLen));
        int[] tile = Scratch.get().ints(2, block * rowLen);
        int[] got = new int[block];
        IntBuffer in = src.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
        ByteBuffer st = stage.clear().order(ByteOrder.LITTLE_ENDIAN);
        IntBuffer stInts = st.asIntBuffer();
        int stUsed = 0;
        int last = rank - 1;
        int inner = dims[last];
        int innerStride = stride[last];
        int[] idx = new int[rank];
        for (int r0 = 0; r0 < rows; r0 += block) {
            int n = Math.min(block, rows - r0);
            java.util.Arrays.fill(idx, 0);
            int off = r0;
            for (int j = 0; j < rowLen; j += inner) {
                for (int q = 0, at = off; q < inner; q++, at += innerStride) {
                    in.get(at, got, 0, n);
                    scatter(got, n, tile, j + q, rowLen);
                }
                for (int d = last - 1; d >= 1; d--) {
                    idx[d]++;
                    off += stride[d];
                    if (idx[d] < dims[d]) {
                        break;
                    }
                    off -= stride[d] * dims[d];
                    idx[d] = 0;
                }
            }
            int len = n * rowLen;
            if (stInts.capacity() - stUsed < len) {
                drain(st, stUsed, ch);
                stUsed = 0;
            }
            stInts.put(stUsed, tile, 0, len);
            stUsed += len;
        }
        drain(st, stUsed, ch);
    }

    /** Element t of {@code got} goes to row t, column {@code col} of the tile. */
    private static void scatter(int[] got, int n, int[] tile, int col, int rowLen) {
        for (int t = 0, p = col; t < n; t++, p += rowLen) {
            tile[p] = got[t];
        }
    }

    private static void drain(ByteBuffer st, int ints, WritableByteChannel ch) throws IOException {
        ByteBuffer b = st.duplicate().position(0).limit(ints * 4);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
