import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The same `graft convert IN OUT` repeated RUNS times in one JVM (bench/resnet50_h5_vs_floor.sh):
 * what the conversion itself costs once graft's code is loaded and compiled, with no JVM start,
 * no Picocli set-up and no interpretation. Prints each run's milliseconds and the median of the
 * second half (the first runs are still compiling). Calls graft.cli.Main.execute, the entry point
 * the tests use; output files are replaced between runs.
 */
public final class WarmConvert {
    public static void main(String[] args) throws Exception {
        int runs = Integer.parseInt(args[0]);
        Path out = Path.of(args[2]);
        long[] ms = new long[runs];
        java.io.PrintWriter quiet = new java.io.PrintWriter(java.io.Writer.nullWriter());
        java.io.PrintWriter err = new java.io.PrintWriter(System.err, true);
        for (int i = 0; i < runs; i++) {
            Files.deleteIfExists(out);
            long t = System.nanoTime();
            int code = graft.cli.Main.execute(quiet, err, "convert", args[1], args[2]);
            ms[i] = (System.nanoTime() - t) / 1_000_000;
            if (code != 0) {
                throw new IllegalStateException("graft convert exited " + code);
            }
        }
        long[] late = Arrays.copyOfRange(ms, runs / 2, runs);
        Arrays.sort(late);
        System.out.println("runs " + Arrays.toString(ms) + " ms; median of the last " + late.length + ": " + late[late.length / 2] + " ms");
    }
}
