package graft.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import graft.ir.DataType;
import graft.ir.FileRegion;
import graft.ir.LayoutTransform;
import graft.ir.Weight;
import graft.ir.WeightData;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The streaming writers of permuted weights give exactly the bytes numpy's transpose gives
 * (fixtures/onnx/make_permuted_weights.py): a 9.6 MB HWIO conv kernel written as OIHW by the
 * tiled gather (several tiles, a stage flush), the same through a thread's own buffer, a small
 * kernel, and a 9.6 MB Dense kernel whose Flatten rows are gathered by scattering reads (more
 * runs than one stage-full takes), and all of them in one stream, where the large conv kernels
 * are written by a second thread into the places left for them. Sources sit at an odd file
 * offset, as in an HDF5 file.
 */
class PermutedWeightWriteTest {
    static final long HEADER = 123;
    static final long[] CONV = {3, 3, 512, 520};
    static final long[] DENSE = {7 * 7 * 128, 384};
    static final long[] SMALL = {3, 3, 8, 16};
    static Path dir;

    @BeforeAll
    static synchronized void fixtures() throws Exception {
        dir = TestPaths.root().resolve("target/models/permuted-weights");
        if (!Files.exists(dir.resolve("small_oihw.bin"))) {
            Files.createDirectories(dir);
            Python.run(TestPaths.fixtures().resolve("onnx/make_permuted_weights.py"), dir.toString());
        }
    }

    /** A float32 weight over {@code shape} at {@code offset} of source.bin that names its file region (as the Keras reader makes it). */
    static Weight mapped(String name, long offset, long[] shape) throws Exception {
        long n = graft.ir.Shape.elementCount(shape) * 4;
        Path src = dir.resolve("source.bin");
        ByteBuffer view;
        try (FileChannel ch = FileChannel.open(src)) {
            view = ch.map(FileChannel.MapMode.READ_ONLY, offset, n);
        }
        return new Weight(name, DataType.FLOAT, shape, WeightData.mapped(view, new FileRegion(src, offset, n)));
    }

    static Weight hwioToOihw(Weight w) {
        return w.with(LayoutTransform.transpose(w.shape(), 3, 2, 0, 1));
    }

    /** Writes {@code w} through the ONNX writer's stream and returns the file. */
    static Path viaProtoStream(Weight w, String name) throws Exception {
        Path out = TestPaths.scratch("permuted-" + name).resolve(name + ".bin");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             ProtoStream ps = new ProtoStream(ch)) {
            ps.weight(w);
        }
        return out;
    }

    @Test
    void largeConvKernelStreamsAsNumpysTranspose() throws Exception {
        Weight w = hwioToOihw(mapped("conv", HEADER, CONV));
        assertThat(Files.mismatch(viaProtoStream(w, "conv"), dir.resolve("conv_oihw.bin"))).isEqualTo(-1);

        // Through the thread's own buffer (Weight.writeTo, used by the other writers), and as a copy.
        Path own = TestPaths.scratch("permuted-conv-own").resolve("conv.bin");
        try (FileChannel ch = FileChannel.open(own, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            w.writeTo(ch);
        }
        assertThat(Files.mismatch(own, dir.resolve("conv_oihw.bin"))).isEqualTo(-1);
        assertThat(w.buffer().mismatch(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("conv_oihw.bin"))))).isEqualTo(-1);
    }

    @Test
    void smallConvKernelStreamsAsNumpysTranspose() throws Exception {
        long at = HEADER + (graft.ir.Shape.elementCount(CONV) + graft.ir.Shape.elementCount(DENSE)) * 4;
        Weight w = hwioToOihw(mapped("small", at, SMALL));
        assertThat(Files.mismatch(viaProtoStream(w, "small"), dir.resolve("small_oihw.bin"))).isEqualTo(-1);
    }

    @Test
    void weightsHandedToTheSecondThreadLandInTheirPlaces() throws Exception {
        // conv (second thread), small conv (in line), Dense rows (gathered), conv again, a plain region: one stream.
        long smallAt = HEADER + (graft.ir.Shape.elementCount(CONV) + graft.ir.Shape.elementCount(DENSE)) * 4;
        Weight conv = hwioToOihw(mapped("conv", HEADER, CONV));
        Weight small = hwioToOihw(mapped("small", smallAt, SMALL));
        Weight dense = mapped("dense", HEADER + graft.ir.Shape.elementCount(CONV) * 4, DENSE)
                .with(LayoutTransform.permute(new long[] {7, 7, 128, 384}, new int[] {2, 0, 1, 3}, DENSE));
        Weight plain = mapped("plain", smallAt, SMALL);
        Path out = TestPaths.scratch("permuted-mixed").resolve("mixed.bin");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             ProtoStream ps = new ProtoStream(ch)) {
            for (Weight w : java.util.List.of(conv, small, dense, conv, plain)) {
                ps.varint(7); // a byte of structure between weights, as the ONNX writer puts headers there
                ps.weight(w);
            }
        }
        java.io.ByteArrayOutputStream want = new java.io.ByteArrayOutputStream();
        byte[] source = Files.readAllBytes(dir.resolve("source.bin"));
        for (String f : java.util.List.of("conv_oihw.bin", "small_oihw.bin", "dense_chw.bin", "conv_oihw.bin")) {
            want.write(7);
            want.write(Files.readAllBytes(dir.resolve(f)));
        }
        want.write(7);
        want.write(source, (int) smallAt, (int) graft.ir.Shape.elementCount(SMALL) * 4);
        assertThat(Files.mismatch(out, writeTemp(want.toByteArray()))).isEqualTo(-1);
    }

    static Path writeTemp(byte[] b) throws Exception {
        Path p = TestPaths.scratch("permuted-mixed-want").resolve("want.bin");
        Files.write(p, b);
        return p;
    }

    @Test
    void denseFlattenRowsAreGatheredAsNumpyOrdersThem() throws Exception {
        Weight w = mapped("dense", HEADER + graft.ir.Shape.elementCount(CONV) * 4, DENSE);
        w = w.with(LayoutTransform.permute(new long[] {7, 7, 128, 384}, new int[] {2, 0, 1, 3}, DENSE));
        assertThat(Files.mismatch(viaProtoStream(w, "dense"), dir.resolve("dense_chw.bin"))).isEqualTo(-1);
    }
}
