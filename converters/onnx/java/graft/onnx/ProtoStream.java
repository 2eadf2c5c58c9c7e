package graft.onnx;

import com.google.protobuf.CodedOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Writes protobuf wire format straight to a file channel: small pieces go through one
 * buffer, large weight bytes are written from their (usually memory-mapped) source with no
 * intermediate copy. Lets graft emit a 500 MB model without building it in memory.
 *
 * <p>Threading: called by one thread; large transposes are written by a helper thread this
 * stream owns, positionally, and {@link #close()} returns only once they are all written. The
 * channel must not be in append mode (skipped bytes are filled in later).
 */
final class ProtoStream implements AutoCloseable {
    private final FileChannel out;
    private final java.util.Map<java.nio.file.Path, FileChannel> sources = new java.util.HashMap<>();
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    /** Gathers the small row runs of a permuted weight before one large write. */
    private final RowGather rows = new RowGather();
    /** Writes large transposes on a second thread into the places this stream leaves for them. */
    private final TransposeWriter transposes = new TransposeWriter();
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
     * Writes a weight's final bytes. A weight whose bytes are a plain file region is copied file
     * to file by the kernel ({@code transferTo}), never faulting the source mapping into this
     * process: whole when nothing is pending, row run by row run when the one pending transform
     * is a permutation that keeps rows whole (the Flatten row order of a Dense kernel). A large
     * transpose that moves the last axis (a conv kernel) is handed to a second thread, which
     * writes it into the bytes this stream skips (see {@link TransposeWriter}). Any other weight
     * streams its pending layout transforms (see {@link graft.ir.Weight#writeTo}).
     */
    void weight(graft.ir.Weight w) throws IOException {
        graft.ir.FileRegion r = w.source().region();
        flush();
        if (r != null && w.isDirect()) {
            copy(r, 0, r.length());
        } else if (r != null && w.pending().size() == 1 && w.pending().get(0) instanceof graft.ir.LayoutTransform.Permute p && p.keepsRows()) {
            // Rows are small (16 KB for VGG16's fc1): gathered by scattering reads, written in large chunks.
            rows.write(source(r.file()), r, p, w.dtype(), out, (off, len) -> copy(r, off, len));
        } else if (TransposeWriter.suits(w)) {
            // Large transposes (conv kernels) go to the second core; the main thread skips their bytes.
            long at = out.position();
            transposes.submit(w, out, at);
            out.position(at + w.byteSize());
        } else {
            w.writeTo(out);
        }
        written += w.byteSize();
        if (graft.io.Timing.detailed()) {
            graft.io.Timing.detail("onnx write: " + w.name() + " (" + w.byteSize() + " B)");
        }
    }

    private FileChannel source(java.nio.file.Path file) throws IOException {
        FileChannel src = sources.get(file);
        if (src == null) {
            src = FileChannel.open(file, java.nio.file.StandardOpenOption.READ);
            sources.put(file, src);
        }
        return src;
    }

    /** Copies {@code length} bytes at {@code offset} inside region {@code r} to the output. */
    private void copy(graft.ir.FileRegion r, long offset, long length) throws IOException {
        if (offset + length > r.length()) {
            throw new IOException("run @" + offset + "+" + length + " lies outside " + r);
        }
        FileChannel src = source(r.file());
        long from = r.offset() + offset;
        long done = 0;
        while (done < length) {
            long n = src.transferTo(from + done, length - done, out);
            if (n <= 0) {
                throw new IOException("'" + r.file() + "' ended before byte " + (from + length));
            }
            done += n;
        }
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

    /** Closes the sources and flushes; returns only when every weight handed to the second thread is written. */
    @Override
    public void close() throws IOException {
        try (TransposeWriter t = transposes) {
            for (FileChannel c : sources.values()) {
                c.close();
            }
            flush();
        }
    }
}
