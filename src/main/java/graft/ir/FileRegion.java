package graft.ir;

import java.nio.file.Path;

/**
 * Where a weight's bytes lie in a file, exactly as they would be written (little-endian, the
 * weight's dtype and source layout). Writers may then copy them file to file inside the kernel
 * ({@code FileChannel.transferTo}) instead of faulting the mapping into this process and
 * copying it through user space.
 */
public record FileRegion(Path file, long offset, long length) {
    public FileRegion {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("file region " + file + " @" + offset + "+" + length);
        }
    }
}
