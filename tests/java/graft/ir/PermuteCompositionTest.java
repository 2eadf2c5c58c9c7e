package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Two pending permutations joined into one ({@link LayoutTransform.Permute#then}) give the same
 * bytes as the two applied one after the other, checked against a plain multi-index reference
 * written here (not graft's transpose code) on 2,000 random view/permutation/reshape chains.
 */
class PermuteCompositionTest {

    /** out[index over view permuted] = in[index over view]: the definition, element by element. */
    static float[] reference(float[] in, long[] view, int[] perm) {
        int rank = view.length;
        float[] out = new float[in.length];
        long[] inStride = new long[rank];
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) {
            inStride[i] = s;
            s *= view[i];
        }
        long[] outShape = new long[rank];
        for (int i = 0; i < rank; i++) {
            outShape[i] = view[perm[i]];
        }
        for (int o = 0; o < out.length; o++) {
            long rest = o;
            long src = 0;
            for (int d = rank - 1; d >= 0; d--) {
                long idx = rest % outShape[d];
                rest /= outShape[d];
                src += idx * inStride[perm[d]];
            }
            out[o] = in[(int) src];
        }
        return out;
    }

    static long[] permuted(long[] view, int[] perm) {
        long[] s = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            s[i] = view[perm[i]];
        }
        return s;
    }

    static int[] randomPerm(Random r, int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        java.util.Collections.shuffle(l, r);
        return l.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A random factorization of the same row-major layout: merge neighbours or split axes. */
    static long[] refactor(Random r, long[] shape) {
        List<Long> out = new ArrayList<>();
        for (long d : shape) {
            if (r.nextInt(3) == 0 && !out.isEmpty()) {
                out.set(out.size() - 1, out.get(out.size() - 1) * d); // merge with the previous axis
            } else if (r.nextInt(3) == 0 && d % 2 == 0 && d > 2) {
                out.add(2L);
                out.add(d / 2);
            } else {
                out.add(d);
            }
        }
        if (out.isEmpty()) {
            out.add(1L);
        }
        if (r.nextInt(5) == 0) {
            out.add(r.nextInt(out.size() + 1), 1L); // a unit axis somewhere
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    static float[] floats(ByteBuffer b, int n) {
        float[] f = new float[n];
        b.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Test
    void joinedPermutationsEqualTheReferenceAppliedTwice() {
        Random r = new Random(20261206);
        int joined = 0;
        int identities = 0;
        for (int c = 0; c < 2000; c++) {
            int rank = 1 + r.nextInt(4);
            long[] view1 = new long[rank];
            for (int i = 0; i < rank; i++) {
                view1[i] = 1 + r.nextInt(6);
            }
            int n = (int) Shape.elementCount(view1);
            int[] perm1 = randomPerm(r, rank);
            long[] result1 = refactor(r, permuted(view1, perm1));
            long[] view2 = r.nextBoolean() ? result1 : refactor(r, result1);
            int[] perm2 = r.nextInt(4) == 0 ? inverse(perm1, view2, view1) : randomPerm(r, view2.length);
            if (perm2 == null) {
                perm2 = randomPerm(r, view2.length);
            }
            long[] result2 = refactor(r, permuted(view2, perm2));
            float[] data = new float[n];
            for (int i = 0; i < n; i++) {
                data[i] = i + 0.5f;
            }
            float[] expected = reference(reference(data, view1, perm1), view2, perm2);
            Weight w = Weight.ofFloats("w", view1, data)
                    .with(LayoutTransform.permute(view1, perm1, result1))
                    .with(LayoutTransform.permute(view2, perm2, result2));
            assertThat(w.shape()).containsExactly(result2);
            assertThat(floats(w.buffer(), n)).as("case %d", c).containsExactly(expected);
            if (w.pending().size() <= 1) {
                joined++;
            }
            if (w.pending().isEmpty()) {
                identities++;
            }
        }
        // a split of a merged axis (3x4 as 12 as 2x6) does not refine: those stay two transforms
        System.out.printf("PermuteCompositionTest: %d of 2000 chains joined into one permutation, %d cancelled%n", joined, identities);
        assertThat(joined).isGreaterThan(1000);
        assertThat(identities).isGreaterThan(0);
    }

    /** perm2 undoing perm1 when view2 is the plain permuted shape of view1 (else null). */
    static int[] inverse(int[] perm1, long[] view2, long[] view1) {
        if (!java.util.Arrays.equals(view2, permuted(view1, perm1))) {
            return null;
        }
        int[] inv = new int[perm1.length];
        for (int i = 0; i < perm1.length; i++) {
            inv[perm1[i]] = i;
        }
        return inv;
    }

    @Test
    void anImportersHwioToOihwAndAWritersInverseCancel() {
        long[] hwio = {3, 3, 4, 8};
        float[] data = new float[3 * 3 * 4 * 8];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Weight imported = Weight.ofFloats("k", hwio, data).with(LayoutTransform.transpose(hwio, 3, 2, 0, 1));
        assertThat(imported.shape()).containsExactly(8, 4, 3, 3);
        Weight back = imported.with(LayoutTransform.transpose(imported.shape(), 2, 3, 1, 0));
        assertThat(back.pending()).isEmpty();
        assertThat(back.isDirect()).isTrue();
        assertThat(floats(back.buffer(), data.length)).containsExactly(data);
    }

    @Test
    void aDenseFlattenRowPermutationAndItsInverseCancel() {
        // Keras Dense after Flatten: rows in (H, W, C) order become ONNX's (C, H, W); the writer
        // puts them back
        long h = 2;
        long wd = 3;
        long ch = 4;
        long out = 5;
        float[] data = new float[(int) (h * wd * ch * out)];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Weight k = Weight.ofFloats("d", new long[] {h * wd * ch, out}, data)
                .with(LayoutTransform.permute(new long[] {h, wd, ch, out}, new int[] {2, 0, 1, 3}, new long[] {ch * h * wd, out}));
        Weight back = k.with(LayoutTransform.permute(new long[] {ch, h, wd, out}, new int[] {1, 2, 0, 3}, new long[] {h * wd * ch, out}));
        assertThat(back.pending()).isEmpty();
        assertThat(floats(back.buffer(), data.length)).containsExactly(data);
    }
}
