package graft.fuzz;

import graft.error.GraftException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The contract every fuzz target asserts (issue 21): a reader returns a model or throws one of
 * graft's own exceptions of the expected exit class with a non-empty one-line message; never
 * another exception type (it propagates, and Jazzer reports it with its stack), never more than
 * {@link #LIMIT_SECONDS} seconds on an input (libFuzzer's {@code -timeout} enforces the same during
 * a campaign; this check covers the regression replay), and never a file written outside the
 * iteration's own folder. Out-of-memory is Jazzer's to see: campaigns run with {@code -Xmx256m}.
 */
final class FuzzContract {
    static final long LIMIT_SECONDS = 10;
    private static final AtomicLong COUNTER = new AtomicLong();
    private static Path root;

    private FuzzContract() {
    }

    /** Code that may throw anything. */
    interface Body {
        void run(Path dir) throws Exception;
    }

    /** A folder for this process's iterations, removed at exit. */
    private static synchronized Path root() {
        if (root == null) {
            try {
                root = Files.createTempDirectory("graft-fuzz");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path r = root;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(r)));
        }
        return root;
    }

    /**
     * Runs {@code body} in a fresh folder (its inputs and outputs go there), then checks the
     * contract. {@code exitCodes} are the exit codes a {@link GraftException} may carry.
     */
    static void check(Body body, int... exitCodes) throws Exception {
        requireSmallHeap();
        Path dir = root().resolve("i" + COUNTER.incrementAndGet());
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        try {
            body.run(dir);
        } catch (GraftException e) {
            accept(e, exitCodes);
        } finally {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            List<Path> strays = strays(dir);
            delete(dir);
            if (!strays.isEmpty()) {
                throw new AssertionError("files written outside the iteration's folder: " + strays);
            }
            if (ms > LIMIT_SECONDS * 1000) {
                throw new AssertionError("took " + ms + " ms, the limit is " + LIMIT_SECONDS + " s");
            }
        }
    }

    /** The heap the contract is checked in: campaigns and the regression replay both run with -Xmx256m. */
    static final long HEAP_BYTES = 256L << 20;

    /**
     * An OutOfMemoryError in 256 MB is a finding; in a larger heap the replay would pass inputs a
     * campaign found to exhaust it. Surefire's fuzz-replay execution forks a JVM with -Xmx256m.
     */
    private static void requireSmallHeap() {
        long max = Runtime.getRuntime().maxMemory();
        if (max > HEAP_BYTES) {
            throw new AssertionError("the fuzz contract is checked in a " + (HEAP_BYTES >> 20) + " MB heap (-Xmx256m); this JVM has "
                    + (max >> 20) + " MB: run the fuzz targets through surefire's fuzz-replay execution or bench/fuzz.sh");
        }
    }

    /** Checks a graft error against the contract: one non-empty line, one of the expected exit codes. */
    static void accept(GraftException e, int... exitCodes) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r")) {
            throw new AssertionError("graft's error message is not one non-empty line: " + m, e);
        }
        for (int c : exitCodes) {
            if (e.exitCode() == c) {
                return;
            }
        }
        throw new AssertionError("graft's error has exit code " + e.exitCode() + ", expected one of "
                + java.util.Arrays.toString(exitCodes) + ": " + m, e);
    }

    /** Anything in the root folder other than the iteration folders. */
    private static List<Path> strays(Path dir) {
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir.getParent())) {
            s.filter(p -> !p.getFileName().toString().matches("i\\d+")).forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.forEach(FuzzContract::delete);
        return out;
    }

    static void delete(Path p) {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                    Files.delete(f);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fuzz target's body, as Jazzer calls it. */
    interface Target {
        void run(byte[] data) throws Exception;
    }

    /**
     * Runs the target once on each seed of fixtures/fuzz/TARGET (not the kept crashes), ignoring
     * the outcome: the classes a campaign needs are loaded and instrumented before libFuzzer's
     * per-input timeout starts counting (instrumenting them during the first input takes longer
     * than the timeout on this machine).
     */
    static void warmUp(String target, Target t) {
        switch (target) {
            case "caffemodel", "prototxt", "roundtrip", "recipe" -> preload("graft.caffe.proto.Caffe", "graft.onnx.proto.Onnx");
            case "onnx", "onnx-external" -> preload("graft.onnx.proto.Onnx");
            default -> {
            }
        }
        Path dir = Path.of(System.getProperty("graft.root", ".")).resolve("fixtures/fuzz").resolve(target);
        long t0 = System.nanoTime();
        int count = 0;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("crash-") || n.startsWith("timeout-") || n.startsWith("oom-") || n.startsWith("slow-unit-")) {
                    continue;
                }
                try {
                    count++;
                    t.run(Files.readAllBytes(p));
                } catch (Throwable e) {
                    // the campaign reports it
                }
            }
            System.err.printf("graft fuzz: warmed up on %d seeds of %s in %d ms%n", count, dir, (System.nanoTime() - t0) / 1_000_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Loads and initialises every nested class of the generated protobuf classes. Jazzer
     * instruments a class when it loads, and the generated Caffe builders are huge: on this
     * loaded machine instrumenting {@code Caffe$LayerParameter$Builder} alone took 8 s and
     * {@code Caffe$LayerParameter} 5 s (campaign log, "Instrumented ... took"). A seed that never
     * reaches, say, {@code V1LayerParameter} leaves its builder for the first mutated input that
     * does, and libFuzzer's 10 s clock then counts the instrumentation: the caffemodel
     * campaigns' "timeouts". Loaded here, before the clock starts, they cost nothing per input.
     */
    static void preload(String... outers) {
        long t0 = System.nanoTime();
        int n = 0;
        for (String outer : outers) {
            try {
                n += preload(Class.forName(outer, true, FuzzContract.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                // not on this target's class path
            }
        }
        System.err.printf("graft fuzz: preloaded %d generated protobuf classes in %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);
    }

    private static int preload(Class<?> c) throws ClassNotFoundException {
        int n = 1;
        for (Class<?> inner : c.getDeclaredClasses()) {
            Class.forName(inner.getName(), true, c.getClassLoader());
            exercise(inner);
            n += preload(inner);
        }
        return n;
    }

    /**
     * Reflection and builders of one generated message: what {@code CaffeNets.upgrade} reaches
     * through {@code getAllFields} (the descriptors, protobuf's DescriptorProtos, the field
     * accessor table) and the text parser through the builders. The timeout the caffemodel
     * campaign hit at 03:20 was the first input with a V1 layer: {@code Caffe.<clinit>} building
     * the descriptors and instrumenting {@code V1LayerParameter$Builder} (3.7 s) and about twenty
     * DescriptorProtos classes (0.4-1.1 s each) inside one input's 10 s.
     */
    private static void exercise(Class<?> c) {
        if (!com.google.protobuf.Message.class.isAssignableFrom(c)) {
            return;
        }
        try {
            var m = (com.google.protobuf.Message) c.getMethod("getDefaultInstance").invoke(null);
            m.getAllFields();
            m.toBuilder().mergeFrom(m.toByteArray()).build().getAllFields();
            com.google.protobuf.TextFormat.printer().printToString(m);
        } catch (ReflectiveOperationException | com.google.protobuf.InvalidProtocolBufferException e) {
            // not a plain generated message
        }
    }

    /** Writes {@code bytes} to {@code dir/name} and returns the path. */
    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** Splits an input into two files: a 4-byte big-endian length of the first, the first, the rest. */
    static byte[][] split(byte[] data) {
        if (data.length < 4) {
            return new byte[][] {data, new byte[0]};
        }
        long n = ((data[0] & 0xffL) << 24) | ((data[1] & 0xff) << 16) | ((data[2] & 0xff) << 8) | (data[3] & 0xff);
        int first = (int) Math.min(n, data.length - 4);
        return new byte[][] {java.util.Arrays.copyOfRange(data, 4, 4 + first), java.util.Arrays.copyOfRange(data, 4 + first, data.length)};
    }
}
