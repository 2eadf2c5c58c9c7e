package graft.caffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import graft.error.MalformedModelException;
import graft.testing.TestPaths;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Sizes a hostile caffemodel claims are refused by explicit checks, each naming the fault:
 * the reader no longer turns Java's own exceptions (ArithmeticException and friends) into
 * "corrupted", so those stay graft's bugs (exit 4). The bytes are written here, field by field.
 */
class CaffeBinaryBoundsTest {
    private static void varint(ByteArrayOutputStream o, long v) {
        CaffeBinary.writeVarint(o, v);
    }

    private static void field(ByteArrayOutputStream o, int field, byte[] body) {
        varint(o, ((long) field << 3) | 2);
        varint(o, body.length);
        o.writeBytes(body);
    }

    /** A NetParameter with one V2 layer 'conv' holding one blob of the given shape and no values. */
    private static byte[] netWithBlobShape(long... dims) {
        ByteArrayOutputStream packed = new ByteArrayOutputStream();
        for (long d : dims) {
            varint(packed, d);
        }
        ByteArrayOutputStream shape = new ByteArrayOutputStream();
        field(shape, 1, packed.toByteArray());
        ByteArrayOutputStream blob = new ByteArrayOutputStream();
        field(blob, 7, shape.toByteArray());
        ByteArrayOutputStream layer = new ByteArrayOutputStream();
        field(layer, 1, "conv".getBytes());
        field(layer, 2, "Convolution".getBytes());
        field(layer, 7, blob.toByteArray());
        ByteArrayOutputStream net = new ByteArrayOutputStream();
        field(net, 1, "n".getBytes());
        field(net, 100, layer.toByteArray());
        return net.toByteArray();
    }

    @Test
    void aBlobShapeWhoseElementCountOverflowsIsNamedNotReportedAsAJavaException() throws Exception {
        Path f = Files.write(TestPaths.scratch("caffe-bounds").resolve("overflow.caffemodel"),
                netWithBlobShape(1L << 40, 1L << 40));
        MalformedModelException e = catchThrowableOfType(() -> CaffeBinary.read(f), MalformedModelException.class);
        assertThat(e).isNotNull();
        assertThat(e.exitCode()).isEqualTo(3);
        assertThat(e.getMessage()).contains("overflow.caffemodel")
                .contains("blob 0 of layer 'conv'").contains("overflows a 64-bit integer")
                .doesNotContain("long overflow");
    }

    @Test
    void aBlobShapeNeedingMoreValuesThanItHoldsIsNamed() throws Exception {
        Path f = Files.write(TestPaths.scratch("caffe-bounds").resolve("short.caffemodel"), netWithBlobShape(1000, 1000));
        MalformedModelException e = catchThrowableOfType(() -> CaffeBinary.read(f), MalformedModelException.class);
        assertThat(e.getMessage()).contains("blob 0 of layer 'conv' holds 0 values, its shape [1000, 1000] needs 1000000");
    }
}
