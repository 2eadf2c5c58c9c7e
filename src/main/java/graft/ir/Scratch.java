package graft.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Per-thread arrays and output buffer reused by the layout transforms across weights (softly
 * held): a conversion's kernels are transposed one after another, and fresh memory is not free
 * (each new page is a fault; on a VM, a host fault too), so VGG16's 13 kernels reuse the first
 * ones' pages instead of touching new ones. Slots 0 and 1 are {@link LayoutTransform.Permute}'s
 * whole-tensor transpose, slot 2 {@link TiledTranspose}'s tile. Each thread has its own.
 */
final class Scratch {
    private static final ThreadLocal<java.lang.ref.SoftReference<Scratch>> MINE = new ThreadLocal<>();
    private final int[][] ints = {new int[0], new int[0], new int[0]};
    private ByteBuffer bytes = ByteBuffer.allocateDirect(0);

    private Scratch() {
    }

    static Scratch get() {
        java.lang.ref.SoftReference<Scratch> r = MINE.get();
        Scratch s = r == null ? null : r.get();
        if (s == null) {
            s = new Scratch();
            MINE.set(new java.lang.ref.SoftReference<>(s));
        }
        return s;
    }

    /** At least {@code n} ints in slot {@code which}; contents undefined, valid until the next call. */
    int[] ints(int which, int n) {
        if (ints[which].length < n) {
            ints[which] = new int[n];
        }
        return ints[which];
    }

    /** A cleared little-endian buffer of exactly {@code n} bytes, valid until the next call. */
    ByteBuffer bytes(int n) {
        if (bytes.capacity() < n) {
            bytes = ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
        }
        return bytes.clear().limit(n).slice().order(ByteOrder.LITTLE_ENDIAN);
    }
}
