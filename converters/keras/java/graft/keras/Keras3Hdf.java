package graft.keras;

import graft.ir.DataType;
import graft.ir.Weight;
import io.jhdf.ObjectHeader;
import io.jhdf.Superblock;
import io.jhdf.api.WritableAttributeImpl;
import io.jhdf.object.message.AttributeInfoMessage;
import io.jhdf.object.message.AttributeMessage;
import io.jhdf.object.message.DataLayoutMessage;
import io.jhdf.object.message.DataSpace;
import io.jhdf.object.message.DataSpaceMessage;
import io.jhdf.object.message.DataTypeMessage;
import io.jhdf.object.message.FillValueMessage;
import io.jhdf.object.message.GroupInfoMessage;
import io.jhdf.object.message.LinkInfoMessage;
import io.jhdf.object.message.LinkMessage;
import io.jhdf.object.message.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small HDF5 tree (groups with string attributes, contiguous float32 datasets) written with
 * jhdf's own object-header and message encoders, in the order the tree is built. Not jhdf's
 * {@code WritableHdfFile}: jhdf 0.9.4 writes a dataset's data with relative writes and then its
 * version string at the channel's position, which lands on whatever group header was written
 * after the last dataset (measured: h5py then reads "bad object header version number"; every
 * Keras 3 weights file has such a group, the model's own empty {@code vars}). Here nothing is
 * written but the objects, each at its own address, and the weights stream from their
 * {@link Weight#buffer()} with no Java array in between. Single-threaded; the caller owns the channel.
 */
final class Keras3Hdf {
    /** jhdf's superblock v2 puts the root group's object header at 64. */
    private static final long ROOT = 64;

    /** A group: attributes and children in insertion order. */
    static final class Group {
        private final Map<String, Object> attributes = new LinkedHashMap<>();
        private final Map<String, Object> children = new LinkedHashMap<>();

        Group group(String name) {
            Group g = new Group();
            children.put(name, g);
            return g;
        }

        void attribute(String name, String value) {
            attributes.put(name, value);
        }

        /** A string-array attribute (Keras 2's {@code layer_names}, {@code weight_names}); not empty. */
        void attribute(String name, String[] values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("attribute '" + name + "' would be an empty array");
            }
            attributes.put(name, values.clone());
        }

        void dataset(String name, Weight w) {
            children.put(name, w);
        }
    }

    private Keras3Hdf() {
    }

    /** What was written: the HDF5 file's size and its CRC-32 (for the zip entry around it). */
    record Written(long size, long crc) {
    }

    /**
     * Writes {@code root} as a whole HDF5 file into {@code channel} at byte {@code base} (its
     * addresses are relative to that byte, as in the file once extracted). Every region written
     * is kept as a view (a weight's buffer is not copied) so the CRC-32 is computed afterwards
     * in file order, without reading the channel back.
     */
    static Written write(Group root, FileChannel channel, long base) throws IOException {
        return write(root, channel, base, true);
    }

    /** As {@link #write(Group, FileChannel, long)}; without {@code crc} the CRC-32 is -1 (a plain .h5 file needs none). */
    static Written write(Group root, FileChannel channel, long base, boolean crc) throws IOException {
        Sink ch = new Sink(channel, base, crc);
        long end = group(root, ch, ROOT);
        Superblock.SuperblockV2V3 sb = new Superblock.SuperblockV2V3();
        ch.writeAt(sb.toBuffer(end), 0);
        graft.io.Timing.mark("hdf5 write: weights written");
        if (!crc) {
            return new Written(end, -1);
        }
        long sum = ch.crc(end);
        graft.io.Timing.mark("keras3 write: crc computed");
        return new Written(end, sum);
    }

    /** Positional writes at {@code base + address}, remembered for the CRC. */
    private static final class Sink {
        private final FileChannel ch;
        private final long base;
        private final java.util.TreeMap<Long, ByteBuffer> regions = new java.util.TreeMap<>();

        private final boolean keep;

        /** {@code keep}: remember each region for the CRC (a weight's transformed copy then lives until the end). */
        Sink(FileChannel ch, long base, boolean keep) {
            this.ch = ch;
            this.base = base;
            this.keep = keep;
        }

        void writeAt(ByteBuffer b, long at) throws IOException {
            if (keep) {
                regions.put(at, b.duplicate());
            }
            long p = base + at;
            while (b.hasRemaining()) {
                p += ch.write(b, p);
            }
        }

        /** CRC-32 of bytes [0, end): the regions in address order, zeros in the gaps (the file reads zeros there). */
        long crc(long end) {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            long at = 0;
            byte[] zeros = new byte[4096];
            for (Map.Entry<Long, ByteBuffer> r : regions.entrySet()) {
                if (r.getKey() < at) {
                    throw new IllegalStateException("HDF5 objects overlap at " + r.getKey());
                }
                for (long gap = r.getKey() - at; gap > 0; gap -= zeros.length) {
                    crc.update(zeros, 0, (int) Math.min(gap, zeros.length));
                }
                crc.update(r.getValue());
                at = r.getKey() + r.getValue().limit();
            }
            if (at != end) {
                throw new IllegalStateException("HDF5 file ends at " + at + ", not " + end);
            }
            return crc.getValue();
        }
    }

    private static long group(Group g, Sink ch, long at) throws IOException {
        List<String> names = new ArrayList<>(g.children.keySet());
        long[] addresses = new long[names.size()];
        Map<String, Long> heaps = new LinkedHashMap<>();
        g.attributes.forEach((k, v) -> {
            if (v instanceof String s && GlobalHeap.needed(k, s)) {
                heaps.put(k, 0L);
            }
        });
        int size = groupHeader(g, names, addresses, heaps).limit();
        long next = at + size;
        for (Map.Entry<String, Long> h : heaps.entrySet()) {
            h.setValue(next);
            ByteBuffer collection = GlobalHeap.collection(((String) g.attributes.get(h.getKey())).getBytes(StandardCharsets.UTF_8));
            ch.writeAt(collection, next);
            next += collection.limit();
        }
        for (int i = 0; i < names.size(); i++) {
            addresses[i] = next;
            Object c = g.children.get(names.get(i));
            next = c instanceof Group cg ? group(cg, ch, next) : dataset((Weight) c, ch, next);
        }
        ByteBuffer header = groupHeader(g, names, addresses, heaps);
        checkChunkSize(header);
        if (header.limit() != size) {
            throw new IllegalStateException("HDF5 group header changed size once its links were addressed");
        }
        ch.writeAt(header, at);
        return next;
    }

    /** A group header, or one attribute message in it, too long for the size fields jhdf's encoder writes. */
    static final class HeaderTooLarge extends IllegalStateException {
        final String attribute;
        final long bytes;

        HeaderTooLarge(String attribute, long bytes) {
            super(attribute == null ? "HDF5 object header of " + bytes + " bytes" : "HDF5 attribute '" + attribute + "' of " + bytes + " bytes");
            this.attribute = attribute;
            this.bytes = bytes;
        }
    }

    /**
     * Reads back the chunk size an encoded version-2 object header declares and compares it with
     * the bytes it holds, so that a header the encoder got wrong is refused, never written (the
     * attribute messages are checked one by one above: a 62,559-byte model_config made a
     * 68,8xx-byte message whose 2-byte size field jhdf truncated; h5py could not open the file).
     */
    static void checkChunkSize(ByteBuffer header) {
        ByteBuffer b = header.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int flags = b.get(5) & 0xff;
        int pos = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
        int width = 1 << (flags & 3);
        long declared = switch (width) {
            case 1 -> b.get(pos) & 0xffL;
            case 2 -> b.getShort(pos) & 0xffffL;
            case 4 -> b.getInt(pos) & 0xffffffffL;
            default -> b.getLong(pos);
        };
        long actual = header.limit() - (pos + width) - 4L; // the checksum closes the header
        if (declared != actual) {
            throw new HeaderTooLarge(null, actual);
        }
    }

    /**
     * A group's version-2 object header. Encoded here rather than by jhdf's
     * {@code ObjectHeaderV2} because a variable-length string attribute is a message jhdf cannot
     * build; every other message is jhdf's own encoding. {@code heaps}: the attributes stored as
     * variable-length strings, with the address of the global heap collection holding each.
     */
    private static ByteBuffer groupHeader(Group g, List<String> names, long[] addresses, Map<String, Long> heaps) {
        List<Object[]> m = new ArrayList<>();
        m.add(jhdf(GroupInfoMessage.createBasic()));
        m.add(jhdf(LinkInfoMessage.createBasic()));
        if (!g.attributes.isEmpty()) {
            m.add(jhdf(AttributeInfoMessage.create()));
            g.attributes.forEach((k, v) -> {
                if (heaps.containsKey(k)) {
                    m.add(new Object[] {AttributeMessage.MESSAGE_TYPE, 0,
                        GlobalHeap.attribute(k, ((String) v).getBytes(StandardCharsets.UTF_8), heaps.get(k))});
                    return;
                }
                AttributeMessage a = AttributeMessage.create(k, new WritableAttributeImpl(k, null, v));
                // a version-2 header gives each message's size 2 bytes: jhdf writes a longer one
                // truncated (the file then opens nowhere: h5py "bad flag combination for message")
                int bytes = a.toBuffer().limit();
                if (bytes > 0xFFFF) {
                    throw new HeaderTooLarge(k, bytes);
                }
                m.add(jhdf(a));
            });
        }
        for (int i = 0; i < names.size(); i++) {
            m.add(jhdf(LinkMessage.create(names.get(i), addresses[i])));
        }
        return objectHeaderV2(m);
    }

    /** A jhdf message as {type, flags, body}. */
    private static Object[] jhdf(Message message) {
        return new Object[] {message.getMessageType(), message.flagsToBytes()[0] & 0xff, message.toBuffer()};
    }

    /**
     * HDF5 object header version 2 ("OHDR"): no times, no creation order, a 4-byte chunk size
     * (the choice jhdf makes too), each message as type (1 byte), size (2), flags (1), body;
     * then the Jenkins lookup3 checksum of everything before it.
     */
    static ByteBuffer objectHeaderV2(List<Object[]> messages) {
        int chunk = 0;
        for (Object[] msg : messages) {
            chunk += 4 + ((ByteBuffer) msg[2]).limit();
        }
        ByteBuffer b = ByteBuffer.allocate(4 + 1 + 1 + 4 + chunk + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'O', 'H', 'D', 'R', 2, 2}).putInt(chunk);
        for (Object[] msg : messages) {
            ByteBuffer body = ((ByteBuffer) msg[2]).duplicate();
            body.position(0);
            if (body.limit() > 0xFFFF) {
                throw new HeaderTooLarge(null, body.limit());
            }
            b.put((byte) (int) (Integer) msg[0]).putShort((short) body.limit()).put((byte) (int) (Integer) msg[1]).put(body);
        }
        byte[] before = new byte[b.position()];
        b.flip();
        b.get(before);
        b.limit(b.capacity());
        b.putInt(io.jhdf.checksum.ChecksumUtils.checksum(before));
        return b.flip();
    }

    private static long dataset(Weight w, Sink ch, long at) throws IOException {
        long[] shape = w.shape();
        int[] dims = new int[shape.length];
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = Math.toIntExact(shape[i]);
            n *= shape[i];
        }
        // float32, or an integer weight in its own width (Normalization's count: int64 in Keras 2, int32 in Keras 3)
        DataType dt = w.dtype() == DataType.INT64 || w.dtype() == DataType.INT32 ? w.dtype() : DataType.FLOAT;
        Object element = dt == DataType.INT64 ? (Object) new long[1] : dt == DataType.INT32 ? (Object) new int[1] : new float[1];
        io.jhdf.object.datatype.DataType type = io.jhdf.object.datatype.DataType.fromObject(element);
        Class<?> component = element.getClass().getComponentType();
        DataSpace space;
        if (dims.length == 0) {
            space = DataSpace.fromObject(dt == DataType.INT64 ? (Object) 0L : dt == DataType.INT32 ? (Object) 0 : (Object) 0f); // a scalar
        } else {
            // jhdf derives a dataspace from an array: a 1x1x...x1 array of the weight's rank, then its dims set.
            int[] ones = new int[dims.length];
            java.util.Arrays.fill(ones, 1);
            space = DataSpace.modifyDimensions(DataSpace.fromObject(java.lang.reflect.Array.newInstance(component, ones)), dims);
        }
        long bytes = n * dt.size();
        List<Message> m = new ArrayList<>();
        m.add(DataTypeMessage.create(type));
        m.add(DataSpaceMessage.create(space));
        m.add(FillValueMessage.NO_FILL);
        m.add(DataLayoutMessage.ContiguousDataLayoutMessage.create(-1, -1));
        int size = new ObjectHeader.ObjectHeaderV2(at, m).toBuffer().limit();
        long data = at + size;
        m.set(3, DataLayoutMessage.ContiguousDataLayoutMessage.create(data, bytes));
        ByteBuffer header = new ObjectHeader.ObjectHeaderV2(at, m).toBuffer();
        if (header.limit() != size) {
            throw new IllegalStateException("HDF5 dataset header changed size once its data was addressed");
        }
        ch.writeAt(header, at);
        ByteBuffer b = w.dtype() == DataType.FLOAT ? w.buffer().duplicate() : dt == DataType.FLOAT ? floats(w.toFloats()) : integers(w.toLongs(), dt);
        graft.io.Timing.detail("keras3 write: weight " + w.name() + " materialised");
        if (b.capacity() < bytes) {
            throw new IllegalStateException("weight '" + w.name() + "' holds " + b.capacity() + " bytes, not " + bytes);
        }
        b.position(0).limit(Math.toIntExact(bytes));
        ch.writeAt(b.slice(), data);
        return data + bytes;
    }

    /** An integer weight as little-endian int64 or int32 (copies). */
    private static ByteBuffer integers(long[] v, DataType dt) {
        ByteBuffer b = ByteBuffer.allocate(v.length * dt.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            if (dt == DataType.INT64) {
                b.putLong(x);
            } else {
                b.putInt(Math.toIntExact(x));
            }
        }
        return b.flip();
    }

    /** A weight stored in another element type, as float32 (copies). */
    private static ByteBuffer floats(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b;
    }
}
