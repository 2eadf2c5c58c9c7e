package graft.oracle;

import graft.io.Npy;
import graft.ir.DataType;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Child-JVM entry point of the oracle part.
 *
 * <pre>
 * OracleMain ORACLE WORKDIR MODEL [--weights FILE] [--config FILE] [--layers] [--in NAME=FILE.npy]...
 * </pre>
 *
 * ORACLE is {@code dl4j} or {@code opencv}. Inputs are float32 .npy files in the source
 * framework's own layout. Writes {@code WORKDIR/out_I.npy} for each output, and
 * {@code WORKDIR/outputs.txt}: the implementation's description on the first line, then one
 * output name per line. With {@code --layers} also every layer's activation as the oracle computes
 * it ({@code WORKDIR/layer_I.npy}, names in {@code WORKDIR/layers.txt}, one per line). Exit 0 done; 3 the oracle cannot read the model (one line on stderr,
 * starting {@code graft-oracle:}); 2 bad arguments; anything else is a crash the parent reports.
 */
public final class OracleMain {
    static final int CANNOT_READ = 3;

    private OracleMain() {
    }

    /** The oracle refuses the model: the message is the one line the user sees. */
    static final class CannotRead extends Exception {
        CannotRead(String message) {
            super(message);
        }
    }

    /** What an oracle gives: a description of the implementation and its outputs, in order. */
    record Result(String implementation, Map<String, float[]> values, Map<String, long[]> shapes, Map<String, float[]> layerValues,
                  Map<String, long[]> layerShapes) {
        Result(String implementation, Map<String, float[]> values, Map<String, long[]> shapes) {
            this(implementation, values, shapes, Map.of(), Map.of());
        }
    }

    public static void main(String[] args) throws Exception {
        PrintStream err = System.err;
        if (args.length < 3) {
            err.println("graft-oracle: usage: OracleMain dl4j|opencv WORKDIR MODEL [--weights F] [--config F] [--in NAME=F.npy]...");
            System.exit(2);
        }
        String oracle = args[0];
        Path work = Path.of(args[1]);
        Path model = Path.of(args[2]);
        Path weights = null;
        Path config = null;
        boolean layers = false;
        Map<String, Npy.Array> inputs = new LinkedHashMap<>();
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "--weights" -> weights = Path.of(args[++i]);
                case "--config" -> config = Path.of(args[++i]);
                case "--layers" -> layers = true;
                case "--in" -> {
                    String[] kv = args[++i].split("=", 2);
                    inputs.put(kv[0], Npy.read(Path.of(kv[1])));
                }
                default -> {
                    err.println("graft-oracle: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        fault();
        Result r;
        try {
            r = switch (oracle) {
                case "dl4j" -> Dl4j.predict(model, config, inputs, layers);
                case "opencv" -> OpenCv.predict(model, weights, inputs, layers);
                default -> throw new CannotRead("no oracle named '" + oracle + "'");
            };
        } catch (CannotRead e) {
            err.println("graft-oracle: " + oneLine(e.getMessage()));
            System.exit(CANNOT_READ);
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(r.implementation());
        lines.addAll(write(work, "out_", r.values(), r.shapes()));
        if (layers) {
            Files.write(work.resolve("layers.txt"), write(work, "layer_", r.layerValues(), r.layerShapes()));
        }
        Files.write(work.resolve("outputs.txt"), lines);
        System.exit(0);
    }

    /** Writes each tensor as {@code PREFIX<i>.npy}; returns the names in order. */
    private static List<String> write(Path work, String prefix, Map<String, float[]> values, Map<String, long[]> shapes) {
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            float[] v = e.getValue();
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            Npy.write(work.resolve(prefix + names.size() + ".npy"), DataType.FLOAT, shapes.get(e.getKey()), b, true);
            names.add(e.getKey());
        }
        return names;
    }

    static String oneLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        String t = s.strip().replaceAll("\\s*\\R\\s*", " ");
        return t.length() > 400 ? t.substring(0, 400) + "..." : t;
    }

    /** The reason of the innermost cause, as one line. */
    static String reason(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage();
        if (m != null) {
            // OpenCV's "cv::Exception: OpenCV(4.9.0) /path/file.cpp:546: error: (-5:Bad argument) WHY in function 'f'": keep WHY.
            m = m.replaceFirst("(?s)^.*?error: \\(-?\\d+:[^)]*\\) ", "");
        }
        return oneLine(c.getClass().getSimpleName() + (m == null ? "" : ": " + m));
    }

    /**
     * Test hook, so that containment can be shown on a real crash and a real hang:
     * {@code -Dgraft.test.oracleFault=crash} dereferences address 0 (SIGSEGV: the JVM dies the
     * way a native library's bug kills it), {@code hang} never returns.
     */
    private static void fault() throws Exception {
        String f = System.getProperty("graft.test.oracleFault", "");
        if (f.equals("crash")) {
            java.lang.reflect.Field u = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
            u.setAccessible(true);
            Object unsafe = u.get(null);
            unsafe.getClass().getMethod("putAddress", long.class, long.class).invoke(unsafe, 0L, 0L);
        } else if (f.equals("hang")) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
