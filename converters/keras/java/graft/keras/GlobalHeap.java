package graft.keras;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A string attribute too long for an object header message (each holds at most 65,535 bytes),
 * stored as h5py 3 stores every Python {@code bytes} attribute, Keras 2's {@code model_config}
 * included: a scalar variable-length string whose bytes live in a global heap collection
 * ("GCOL"), the attribute message holding only its length, the collection's address and the
 * object's index. Measured with h5py 3 / HDF5 1.10.8: a 100,000-byte {@code bytes} attribute
 * is written so, in a collection of exactly 32 + its bytes rounded up to 8 (no free-space
 * object), and a short one in a 4,096-byte collection closed by a free-space object.
 */
final class GlobalHeap {
    /** HDF5's smallest global heap collection. */
    private static final int MIN_COLLECTION = 4096;
    /** A heap object's header: index, reference count, reserved, size. */
    private static final int OBJECT_HEADER = 16;

    private GlobalHeap() {
    }

    /** Whether a string attribute must go to the heap: its fixed-length message, as jhdf encodes it, would not fit in 65,535 bytes. */
    static boolean needed(String name, String value) {
        if (value.length() < 16_384) {
            return false;
        }
        return io.jhdf.object.message.AttributeMessage.create(name, new io.jhdf.api.WritableAttributeImpl(name, null, value)).toBuffer().limit() > 0xFFFF;
    }

    /** One collection holding {@code bytes} as object 1 (the index {@link #attribute} points at). */
    static ByteBuffer collection(byte[] bytes) {
        int padded = (bytes.length + 7) & ~7;
        int used = 16 + OBJECT_HEADER + padded;
        int size = Math.max(MIN_COLLECTION, used);
        if (size > used && size - used < OBJECT_HEADER) {
            size += OBJECT_HEADER; // the free space must hold its own object header
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'G', 'C', 'O', 'L', 1, 0, 0, 0}).putLong(size);
        b.putShort((short) 1).putShort((short) 0).putInt(0).putLong(bytes.length).put(bytes);
        b.position(used);
        if (size > used) {
            // object 0: the free space, its size counting its own header (as HDF5 writes it)
            b.putShort((short) 0).putShort((short) 0).putInt(0).putLong(size - used);
        }
        b.position(0);
        return b;
    }

    /**
     * The body of a version-3 attribute message: a scalar variable-length string (class 9,
     * string, null-terminated padding; ASCII when every byte is, else UTF-8) over 1-byte
     * characters, its data the string's byte count, the collection address and object index 1.
     */
    static ByteBuffer attribute(String name, byte[] value, long collection) {
        boolean ascii = true;
        for (byte v : value) {
            ascii &= v >= 0;
        }
        byte[] n = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] type = {
            0x19, 0x01, (byte) (ascii ? 0 : 1), 0, 16, 0, 0, 0, // variable-length string, 16-byte elements
            0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0 // its base: 8-bit fixed-point, offset 0, precision 8
        };
        byte[] space = {2, 0, 0, 0}; // dataspace version 2, rank 0: scalar
        ByteBuffer b = ByteBuffer.allocate(9 + n.length + 1 + type.length + space.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 3).put((byte) 0).putShort((short) (n.length + 1)).putShort((short) type.length).putShort((short) space.length);
        b.put((byte) 1).put(n).put((byte) 0).put(type).put(space);
        b.putInt(value.length).putLong(collection).putInt(1);
        return b.flip();
    }
}
