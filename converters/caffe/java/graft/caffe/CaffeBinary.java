package graft.caffe;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import graft.caffe.proto.Caffe.LayerParameter;
import graft.caffe.proto.Caffe.NetParameter;
import graft.caffe.proto.Caffe.V1LayerParameter;
import graft.error.MalformedModelException;
import graft.io.ModelFiles;
import graft.ir.DataType;
import graft.ir.Weight;
import graft.ir.WeightData;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a binary caffemodel without copying its weights. The file is memory-mapped and its
 * {@code NetParameter} walked by hand, field by field: each blob's packed {@code data}
 * (little-endian float32, exactly the IR's layout) becomes a {@link Weight} over a slice of
 * the mapping, and everything else of each layer is re-assembled into a small message that
 * protobuf-java parses (with its size limit raised). A field that runs past the end of the
 * file is reported with its offset.
 */
final class CaffeBinary {
    /** A caffemodel's layers without blobs, and the blobs by layer name (first layer with blobs wins, as in Caffe). */
    record Parsed(NetParameter net, Map<String, List<Weight>> blobs) {
    }

    private static final int NET_LAYERS_V1 = 2;
    private static final int NET_LAYER = 100;
    private static final int V1_BLOBS = 6;
    private static final int V2_BLOBS = 7;

    private final Path file;
    /** The file holding the bytes: {@code file}, or its Git LFS object when {@code file} is a pointer. */
    private final Path bytes;
    private final ByteBuffer map;

    private CaffeBinary(Path file, Path bytes, ByteBuffer map) {
        this.file = file;
        this.bytes = bytes;
        this.map = map;
    }

    static Parsed read(Path file) {
        long size = ModelFiles.checkReadable(file);
        if (size > Integer.MAX_VALUE) {
            throw new MalformedModelException(file, "is " + size + " bytes; a caffemodel is one protobuf message and cannot exceed 2 GB");
        }
        Path bytes = ModelFiles.source(file);
        ByteBuffer m = ModelFiles.map(bytes);
        sniff(file, m);
        // Every length, offset and size the file claims is checked before it is used (Cursor.need,
        // the element count below): an IndexOutOfBounds or IllegalArgument exception here is
        // graft's own bug and goes out as one (exit 4), not as "corrupted".
        return new CaffeBinary(file, bytes, m).parse();
    }

    private static void sniff(Path file, ByteBuffer b) {
        int n = Math.min(64, b.remaining());
        byte[] head = new byte[n];
        b.get(0, head);
        String s = new String(head, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (s.startsWith("\u0089HDF")) {
            throw new MalformedModelException(file, "is an HDF5 file (Keras?), not a caffemodel");
        }
        if (s.startsWith("PK\u0003\u0004")) {
            throw new MalformedModelException(file, "is a zip archive, not a caffemodel");
        }
        boolean text = true;
        for (byte c : head) {
            text &= c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f);
        }
        if (text) {
            throw new MalformedModelException(file, "is a text file, not a binary caffemodel (a .prototxt goes first, the caffemodel in --weights)");
        }
        int first = head[0] & 0xff;
        boolean ok = first == 0x0a || first == 0x12 || first == 0x1a || first == 0x20 || first == 0x22 || first == 0x28
                || first == 0x32 || first == 0x38 || first == 0x42 || (first == 0xa2 && n > 1 && head[1] == 0x06);
        if (!ok) {
            throw new MalformedModelException(file, "is not a caffemodel (it does not start with a NetParameter field)");
        }
    }

    private Parsed parse() {
        Cursor c = new Cursor(0, map.limit());
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        Map<String, List<Weight>> blobs = new LinkedHashMap<>();
        List<byte[]> layers = new ArrayList<>();
        List<Integer> layerFields = new ArrayList<>();
        while (c.more()) {
            int start = c.pos;
            int tag = c.tag();
            int field = tag >>> 3;
            if ((field == NET_LAYER || field == NET_LAYERS_V1) && (tag & 7) == 2) {
                int len = c.length();
                layerFields.add(field);
                layers.add(layer(c.pos, c.pos + len, field == NET_LAYER ? V2_BLOBS : V1_BLOBS, blobs, layers.size()));
                c.pos += len;
            } else {
                c.skip(tag);
                copy(rest, start, c.pos);
            }
        }
        for (int i = 0; i < layers.size(); i++) {
            writeTag(rest, layerFields.get(i), 2);
            writeVarint(rest, layers.get(i).length);
            rest.writeBytes(layers.get(i));
        }
        try {
            CodedInputStream in = CodedInputStream.newInstance(rest.toByteArray());
            in.setSizeLimit(Integer.MAX_VALUE);
            NetParameter net = NetParameter.parseFrom(in);
            return new Parsed(net, blobs);
        } catch (java.io.IOException e) {
            throw new MalformedModelException(file, "is corrupted: a layer does not parse as a Caffe layer (" + firstSentence(e) + ")");
        }
    }

    /** One layer: its bytes without the blobs; the blobs go to {@code out} under the layer's name. */
    private byte[] layer(int from, int to, int blobField, Map<String, List<Weight>> out, int index) {
        Cursor c = new Cursor(from, to);
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        List<int[]> blobRanges = new ArrayList<>();
        while (c.more()) {
            int start = c.pos;
            int tag = c.tag();
            if (tag >>> 3 == blobField && (tag & 7) == 2) {
                int len = c.length();
                blobRanges.add(new int[] {c.pos, c.pos + len});
                c.pos += len;
            } else {
                c.skip(tag);
                copy(rest, start, c.pos);
            }
        }
        byte[] bytes = rest.toByteArray();
        if (!blobRanges.isEmpty()) {
            String name;
            try {
                name = blobField == V2_BLOBS ? LayerParameter.parseFrom(bytes).getName() : V1LayerParameter.parseFrom(bytes).getName();
            } catch (InvalidProtocolBufferException e) {
                throw new MalformedModelException(file, "is corrupted: layer " + index + " at offset " + from + " does not parse ("
                        + firstSentence(e) + ")");
            }
            List<Weight> ws = new ArrayList<>();
            for (int i = 0; i < blobRanges.size(); i++) {
                ws.add(blob(name, i, blobRanges.get(i)[0], blobRanges.get(i)[1]));
            }
            out.putIfAbsent(name, ws);
        }
        return bytes;
    }

    private Weight blob(String layer, int index, int from, int to) {
        Cursor c = new Cursor(from, to);
        long[] legacy = {0, 0, 0, 0};
        boolean hasLegacy = false;
        List<Long> dims = null;
        int dataAt = -1;
        int dataLen = 0;
        DataType dtype = DataType.FLOAT;
        List<Float> loose = new ArrayList<>();
        while (c.more()) {
            int tag = c.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field >= 1 && field <= 4 && wire == 0) {
                legacy[field - 1] = c.varint();
                hasLegacy = true;
            } else if (field == 7 && wire == 2) {
                int len = c.length();
                dims = shape(c.pos, c.pos + len);
                c.pos += len;
            } else if ((field == 5 || field == 8) && wire == 2) {
                int len = c.length();
                if (dataAt < 0 || dataLen == 0) {
                    dataAt = c.pos;
                    dataLen = len;
                    dtype = field == 5 ? DataType.FLOAT : DataType.DOUBLE;
                }
                c.pos += len;
            } else if (field == 5 && wire == 5) {
                c.need(4);
                loose.add(map.getFloat(c.pos));
                c.pos += 4;
            } else {
                c.skip(tag);
            }
        }
        long[] shape;
        if (dims != null) {
            shape = dims.stream().mapToLong(Long::longValue).toArray();
        } else if (hasLegacy) {
            shape = legacy;
        } else {
            shape = new long[] {loose.isEmpty() ? dataLen / dtype.size() : loose.size()};
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new MalformedModelException(file, "blob " + index + " of layer '" + layer + "' has a negative dimension");
            }
            if (d != 0 && count > Long.MAX_VALUE / d) {
                throw new MalformedModelException(file, "blob " + index + " of layer '" + layer + "' has a shape "
                        + java.util.Arrays.toString(shape) + " whose element count overflows a 64-bit integer");
            }
            count *= d;
        }
        String name = layer + "/blob" + index;
        WeightData data;
        long have;
        if (!loose.isEmpty()) {
            ByteBuffer b = ByteBuffer.allocateDirect(loose.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
            loose.forEach(b::putFloat);
            b.flip();
            data = WeightData.of(b);
            have = loose.size();
        } else {
            if (dataLen % dtype.size() != 0) {
                throw new MalformedModelException(file, "blob " + index + " of layer '" + layer + "' holds a partial value ("
                        + dataLen + " bytes)");
            }
            // Packed floats are exactly ONNX raw_data: writers may copy the region file to file.
            data = dataAt >= 0
                    ? WeightData.mapped(map.slice(dataAt, dataLen), new graft.ir.FileRegion(bytes, dataAt, dataLen))
                    : WeightData.of(map.slice(0, dataLen));
            have = dataLen / dtype.size();
        }
        if (have != count) {
            throw new MalformedModelException(file, "blob " + index + " of layer '" + layer + "' holds " + have + " values, its shape "
                    + java.util.Arrays.toString(shape) + " needs " + count);
        }
        return new Weight(name, dtype, shape, data);
    }

    private List<Long> shape(int from, int to) {
        Cursor c = new Cursor(from, to);
        List<Long> d = new ArrayList<>();
        while (c.more()) {
            int tag = c.tag();
            if (tag >>> 3 == 1 && (tag & 7) == 2) {
                int len = c.length();
                Cursor p = new Cursor(c.pos, c.pos + len);
                while (p.more()) {
                    d.add(p.varint());
                }
                c.pos = p.end;
            } else if (tag >>> 3 == 1 && (tag & 7) == 0) {
                d.add(c.varint());
            } else {
                c.skip(tag);
            }
        }
        return d;
    }

    private void copy(ByteArrayOutputStream out, int from, int to) {
        byte[] b = new byte[to - from];
        map.get(from, b);
        out.writeBytes(b);
    }

    private static void writeTag(ByteArrayOutputStream out, int field, int wire) {
        writeVarint(out, ((long) field << 3) | wire);
    }

    static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static String firstSentence(Exception e) {
        String m = String.valueOf(e.getMessage());
        int dot = m.indexOf(". ");
        return dot > 0 ? m.substring(0, dot) : m;
    }

    /** A position inside a region of the mapping, with the protobuf wire primitives. */
    private final class Cursor {
        int pos;
        final int end;

        Cursor(int pos, int end) {
            this.pos = pos;
            this.end = end;
        }

        boolean more() {
            return pos < end;
        }

        void need(long n) {
            if (n < 0 || pos + n > end) {
                throw new MalformedModelException(file, "is truncated or corrupted: a field at offset " + pos + " needs " + n
                        + " bytes, only " + (end - pos) + " remain" + (end == map.limit() ? " in the file" : " in its message"));
            }
        }

        long varint() {
            long r = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                need(1);
                byte b = map.get(pos++);
                r |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return r;
                }
            }
            throw new MalformedModelException(file, "is corrupted: a malformed varint at offset " + pos);
        }

        int tag() {
            long t = varint();
            if (t >>> 3 == 0 || t > Integer.MAX_VALUE) {
                throw new MalformedModelException(file, "is corrupted: an invalid field tag at offset " + pos);
            }
            return (int) t;
        }

        int length() {
            long n = varint();
            need(n);
            return (int) n;
        }

        void skip(int tag) {
            switch (tag & 7) {
                case 0 -> varint();
                case 1 -> {
                    need(8);
                    pos += 8;
                }
                case 2 -> {
                    int n = length();
                    pos += n;
                }
                case 5 -> {
                    need(4);
                    pos += 4;
                }
                default -> throw new MalformedModelException(file, "is corrupted: wire type " + (tag & 7) + " at offset " + pos);
            }
        }
    }
}
