package graft.io;

import graft.error.MalformedModelException;
import graft.ir.DataType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** NumPy {@code .npy} arrays (version 1 and 2 headers, C order, little-endian) in and out. */
public final class Npy {
    /** An array: type, shape and little-endian bytes (for a read, a view over the mapped file). */
    public record Array(DataType dtype, long[] shape, ByteBuffer data) {
        public float[] toFloats() {
            return graft.ir.Elements.toFloats(dtype, data, Math.toIntExact(count()));
        }

        public long count() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<>|=]?)(\\w\\d*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static Array read(Path file) {
        ModelFiles.checkReadable(file);
        ByteBuffer m = ModelFiles.map(ModelFiles.source(file));
        if (m.remaining() < 10 || m.get(0) != (byte) 0x93 || m.get(1) != 'N' || m.get(2) != 'U' || m.get(3) != 'M'
                || m.get(4) != 'P' || m.get(5) != 'Y') {
            throw new MalformedModelException(file, "is not a .npy file (no \\x93NUMPY magic)");
        }
        int major = m.get(6);
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = m.getShort(8) & 0xffff;
            start = 10;
        } else {
            if (m.capacity() < 12) {
                throw new MalformedModelException(file, "npy file ends inside its version " + major + " preamble");
            }
            headerLen = m.getInt(8);
            start = 12;
        }
        if (headerLen < 0 || (long) start + headerLen > m.capacity()) {
            throw new MalformedModelException(file, "npy header length " + headerLen + " runs past the end of the file");
        }
        byte[] hb = new byte[headerLen];
        m.get(start, hb);
        String header = new String(hb, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find()) {
            throw new MalformedModelException(file, "npy header is not understood: " + header.trim());
        }
        if (f.find() && f.group(1).equals("True")) {
            throw new MalformedModelException(file, "npy array is in Fortran order; save it with C order");
        }
        if (d.group(1).equals(">")) {
            throw new MalformedModelException(file, "npy array is big-endian; only little-endian is read");
        }
        DataType t = switch (d.group(2)) {
            case "f4" -> DataType.FLOAT;
            case "f8" -> DataType.DOUBLE;
            case "f2" -> DataType.FLOAT16;
            case "i8" -> DataType.INT64;
            case "i4" -> DataType.INT32;
            case "u1" -> DataType.UINT8;
            case "i1" -> DataType.INT8;
            case "b1" -> DataType.BOOL;
            default -> throw new MalformedModelException(file, "npy type '" + d.group(2) + "' is not supported");
        };
        List<Long> dims = new ArrayList<>();
        for (String p : s.group(1).split(",")) {
            if (!p.isBlank()) {
                long dim;
                try {
                    dim = Long.parseLong(p.trim());
                } catch (NumberFormatException e) {
                    dim = -1;
                }
                if (dim < 0) {
                    throw new MalformedModelException(file, "npy shape (" + s.group(1) + ") holds '" + p.trim() + "', not a dimension");
                }
                dims.add(dim);
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count = 1;
        long bytes;
        try {
            for (long x : shape) {
                count = Math.multiplyExact(count, x);
            }
            bytes = Math.multiplyExact(count, (long) t.size());
        } catch (ArithmeticException e) {
            throw new MalformedModelException(file, "npy shape " + dims + " has more elements than a long counts");
        }
        int dataStart = start + headerLen;
        if (bytes > m.capacity() - dataStart) {
            throw new MalformedModelException(file, "npy data of shape " + dims + " needs " + bytes + " bytes, the file holds "
                    + (m.capacity() - dataStart));
        }
        ByteBuffer data = m.slice(dataStart, (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        return new Array(t, shape, data);
    }

    public static void write(Path file, DataType t, long[] shape, ByteBuffer data, boolean force) {
        String descr = switch (t) {
            case FLOAT -> "<f4";
            case DOUBLE -> "<f8";
            case FLOAT16 -> "<f2";
            case INT64 -> "<i8";
            case INT32 -> "<i4";
            case UINT8 -> "|u1";
            case INT8 -> "|i1";
            case BOOL -> "|b1";
            default -> throw new IllegalArgumentException("cannot write " + t + " to npy");
        };
        StringBuilder sh = new StringBuilder();
        for (long d : shape) {
            sh.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? shape[0] + "," : sh.length() == 0 ? "" : sh.substring(0, sh.length() - 2);
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shapeText + "), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer h = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
        h.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.ISO_8859_1)).put((byte) 1).put((byte) 0);
        h.putShort((short) header.length()).put(header.getBytes(StandardCharsets.ISO_8859_1)).flip();
        try (AtomicOutput out = AtomicOutput.open(file, force, List.of())) {
            FileChannel ch = out.channel();
            while (h.hasRemaining()) {
                ch.write(h);
            }
            ByteBuffer d = data.duplicate();
            while (d.hasRemaining()) {
                ch.write(d);
            }
            out.commit();
        } catch (IOException e) {
            throw new graft.error.EnvironmentException("output '" + file + "': cannot be written (" + AtomicOutput.why(e) + ")", e);
        }
    }
}
