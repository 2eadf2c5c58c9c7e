package graft.onnx;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes protobuf wire format straight to a file channel: small pieces go through one
 * buffer, large weight bytes are written from their (usually memory-mapped) source with no
 * intermediate copy. Lets graft emit a 500 MB model without building it in memory.
 */
final class ProtoStream implements AutoCloseable {
    private final FileChannel out;
    private final java.util.Map<java.nio.file.Path, FileChannel> sources = new java.util.HashMap<>();
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    private long written;

    ProtoStream(FileChannel out) {
        this.out = out;
    }

    void bytes(byte[] b) throws IOException {
        if (b.length > buf.remaining()) {
            flush();
            if (b.length > buf.capacity()) {
                drain(ByteBuffer.wrap(b));
                return;
            }
        }
        buf.put(b);
        written += b.length;
    }

    void lengthDelimitedHeader(int field, long length) throws IOException {
        varint(((long) field << 3) | 2);
        varint(length);
    }

    void varint(long v) throws IOException {
        if (buf.remaining() < 10) {
            flush();
        }
        while ((v & ~0x7FL) != 0) {
            buf.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
            written++;
        }
        buf.put((byte) v);
        written++;
    }

    /** Writes large bytes directly from their buffer (no copy into ours). */
    void large(ByteBuffer data) throws IOException {
        flush();
        long n = data.remaining();
        drain(data.duplicate());
        written += n;
    }

    /**
     * Writes a weight's final bytes. A weight with nothing pending whose bytes are a plain file
     * region is copied file to file by the kernel ({@code transferTo}), never faulting the
     * source mapping into this process; any other weight streams its pending layout transforms
     * (see {@link graft.ir.Weight#writeTo}).
     */
    void weight(graft.ir.Weight w) throws IOException {
        graft.ir.FileRegion r = w.isDirect() ? w.source().region() : null;
        if (r == null) {
            flush();
            w.writeTo(out);
            written += w.byteSize();
            return;
        }
        flush();
        FileChannel src = sources.get(r.file());
        if (src == null) {
            src = FileChannel.open(r.file(), java.nio.file.StandardOpenOption.READ);
            sources.put(r.file(), src);
        }
        long done = 0;
        while (done < r.length()) {
            long n = src.transferTo(r.offset() + done, r.length() - done, out);
            if (n <= 0) {
                throw new IOException("'" + r.file() + "' ended before byte " + (r.offset() + r.length()));
            }
            done += n;
        }
        written += r.length();
    }

    private void drain(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    void flush() throws IOException {
        buf.flip();
        drain(buf);
        buf.clear();
    }

    long position() {
        return written;
    }

    /** Pads with zero bytes to a multiple of {@code alignment} (external data files). */
    void align(long alignment) throws IOException {
        long pad = (alignment - written % alignment) % alignment;
        for (long i = 0; i < pad; i++) {
            if (!buf.hasRemaining()) {
                flush();
            }
            buf.put((byte) 0);
            written++;
        }
    }

    static int lengthDelimitedSize(int field, long length) {
        return CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt64SizeNoTag(length);
    }

    @Override
    public void close() throws IOException {
        for (FileChannel c : sources.values()) {
            c.close();
        }
        flush();
    }
}
