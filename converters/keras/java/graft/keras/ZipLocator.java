package graft.keras;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Finds where a zip entry's data starts in the archive, which {@link java.util.zip.ZipFile} does
 * not say: the central directory gives the entry's local header, the local header's own name and
 * extra lengths give the data offset. With it a STORED entry (Keras 3 writes model.weights.h5
 * that way) can be memory-mapped in place instead of read into the heap.
 *
 * <p>Reads a few KB through positional reads; holds nothing open afterwards. Zip64 archives whose
 * central directory lies past 4 GB are not located (callers fall back to extracting the entry).
 */
final class ZipLocator {
    /** An entry's compression method (0 STORED, 8 DEFLATED), sizes and data offset in the archive. */
    record Located(int method, long compressedSize, long size, long dataOffset) {
    }

    private static final int EOCD = 0x06054b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final long MAX32 = 0xFFFFFFFFL;

    private ZipLocator() {
    }

    /** The entry named {@code name}, or null when the archive does not let graft locate it. */
    static Located locate(Path zip, String name) throws IOException {
        try (FileChannel ch = FileChannel.open(zip, StandardOpenOption.READ)) {
            long size = ch.size();
            int tail = (int) Math.min(size, 22 + 0xFFFF);
            ByteBuffer t = read(ch, size - tail, tail);
            int eocd = -1;
            for (int i = tail - 22; i >= 0; i--) {
                if (t.getInt(i) == EOCD) {
                    eocd = i;
                    break;
                }
            }
            if (eocd < 0) {
                return null;
            }
            long cdSize = t.getInt(eocd + 12) & MAX32;
            long cdOffset = t.getInt(eocd + 16) & MAX32;
            if (cdOffset == MAX32 || cdSize == MAX32 || cdOffset + cdSize > size || cdSize > (64 << 20)) {
                return null;
            }
            ByteBuffer cd = read(ch, cdOffset, (int) cdSize);
            byte[] want = name.getBytes(StandardCharsets.UTF_8);
            for (int p = 0; p + 46 <= cd.limit() && cd.getInt(p) == CENTRAL; ) {
                int method = cd.getShort(p + 10) & 0xFFFF;
                long csize = cd.getInt(p + 20) & MAX32;
                long usize = cd.getInt(p + 24) & MAX32;
                int nameLen = cd.getShort(p + 28) & 0xFFFF;
                int extraLen = cd.getShort(p + 30) & 0xFFFF;
                int commentLen = cd.getShort(p + 32) & 0xFFFF;
                long local = cd.getInt(p + 42) & MAX32;
                if (p + 46 + nameLen + extraLen > cd.limit()) {
                    return null;
                }
                if (nameLen == want.length && cd.slice(p + 46, nameLen).equals(ByteBuffer.wrap(want))) {
                    if (usize == MAX32 || csize == MAX32 || local == MAX32) {
                        long[] z = zip64(cd.slice(p + 46 + nameLen, extraLen).order(ByteOrder.LITTLE_ENDIAN), usize, csize, local);
                        if (z == null) {
                            return null;
                        }
                        usize = z[0];
                        csize = z[1];
                        local = z[2];
                    }
                    if (local + 30 > size) {
                        return null;
                    }
                    ByteBuffer lh = read(ch, local, 30);
                    if (lh.getInt(0) != LOCAL) {
                        return null;
                    }
                    long data = local + 30 + (lh.getShort(26) & 0xFFFF) + (lh.getShort(28) & 0xFFFF);
                    return data + csize > size ? null : new Located(method, csize, usize, data);
                }
                p += 46 + nameLen + extraLen + commentLen;
            }
            return null;
        }
    }

    /** The Zip64 extra field (id 1) holds, in order, the 64-bit values whose 32-bit fields are all ones. */
    private static long[] zip64(ByteBuffer extra, long usize, long csize, long local) {
        for (int p = 0; p + 4 <= extra.limit(); ) {
            int id = extra.getShort(p) & 0xFFFF;
            int len = extra.getShort(p + 2) & 0xFFFF;
            if (id == 1) {
                int q = p + 4;
                long[] r = {usize, csize, local};
                for (int i = 0; i < 3; i++) {
                    if (r[i] == MAX32) {
                        if (q + 8 > p + 4 + len || q + 8 > extra.limit()) {
                            return null;
                        }
                        r[i] = extra.getLong(q);
                        q += 8;
                    }
                }
                return r;
            }
            p += 4 + len;
        }
        return null;
    }

    private static ByteBuffer read(FileChannel ch, long at, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("zip ended at byte " + (at + b.position()));
            }
        }
        return b.flip();
    }
}
