import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The least a JVM converter does with a model's bytes: copy the whole file by
 * FileChannel.transferTo (sendfile on Linux, the kernel copies), as graft's writers do for
 * weights that need no transform (bench/jvm_floor.sh).
 */
public final class CopyFile {
    public static void main(String[] args) throws Exception {
        try (FileChannel in = FileChannel.open(Path.of(args[0]));
             FileChannel out = FileChannel.open(Path.of(args[1]), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long size = in.size();
            for (long done = 0; done < size; ) {
                done += in.transferTo(done, size - done, out);
            }
        }
    }
}
