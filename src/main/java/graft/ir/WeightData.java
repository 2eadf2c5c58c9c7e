package graft.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/**
 * The bytes behind a weight, little-endian, in the layout of the file they came from.
 *
 * <p>Ownership: a buffer returned by {@link #buffer()} is a read-only view; for a memory-mapped
 * source it stays valid as long as the mapping is reachable (the view itself keeps it alive).
 * Nothing here copies unless the source is lazy (a filler or a decoded typed field), and then
 * the copy is made once and kept.
 */
public interface WeightData {
    /** The bytes, positioned at 0, little-endian, read-only. No copy for mapped sources. */
    ByteBuffer buffer();

    long byteSize();

    /** Where these exact bytes lie in a file, or null when they are not a plain file region. */
    default FileRegion region() {
        return null;
    }

    /** A view over existing bytes (a slice of a mapped file, typically). No copy. */
    static WeightData of(ByteBuffer bytes) {
        ByteBuffer view = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        long size = view.remaining();
        return new WeightData() {
            @Override
            public ByteBuffer buffer() {
                return view.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            }

            @Override
            public long byteSize() {
                return size;
            }
        };
    }

    /**
     * A view over a slice of a mapped file that also says where the slice lies, so writers can
     * copy it file to file. No copy.
     */
    static WeightData mapped(ByteBuffer bytes, FileRegion region) {
        WeightData view = of(bytes);
        if (region.length() != view.byteSize()) {
            throw new IllegalArgumentException("region " + region + " does not match a view of " + view.byteSize() + " bytes");
        }
        return new WeightData() {
            @Override
            public ByteBuffer buffer() {
                return view.buffer();
            }

            @Override
            public long byteSize() {
                return view.byteSize();
            }

            @Override
            public FileRegion region() {
                return region;
            }
        };
    }

    /** Bytes produced on first use (random fillers, decoded typed fields), then kept. */
    static WeightData lazy(long byteSize, Supplier<ByteBuffer> producer) {
        return new WeightData() {
            private ByteBuffer made;

            @Override
            public synchronized ByteBuffer buffer() {
                if (made == null) {
                    ByteBuffer b = producer.get();
                    if (b.remaining() != byteSize) {
                        throw new IllegalStateException("lazy weight produced " + b.remaining() + " bytes, expected " + byteSize);
                    }
                    made = b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
                }
                return made.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            }

            @Override
            public long byteSize() {
                return byteSize;
            }
        };
    }
}
