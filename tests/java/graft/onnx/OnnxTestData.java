package graft.onnx;

import graft.ir.DataType;
import graft.ir.Tensor;
import graft.ir.Weight;
import graft.onnx.proto.Onnx.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the TensorProto files of ONNX backend test cases (input_N.pb, output_N.pb). */
public final class OnnxTestData {
    private OnnxTestData() {
    }

    public static Tensor read(Path pb) throws IOException {
        TensorProto t = TensorProto.parseFrom(Files.readAllBytes(pb));
        Weight w = OnnxTensors.toWeight(t, pb, Files.size(pb));
        ByteBuffer src = w.buffer();
        ByteBuffer copy = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        copy.put(src).flip();
        return new Tensor(w.dtype(), w.shape(), copy);
    }

    public static String name(Path pb) throws IOException {
        return TensorProto.parseFrom(Files.readAllBytes(pb)).getName();
    }

    /** A data set folder's inputs (by their names) and expected outputs (in order). */
    public record DataSet(Map<String, Tensor> feeds, List<Tensor> expected) {
    }

    /** Reads {@code dir}'s input_N.pb and output_N.pb; null when the reader cannot hold them (string, sequence or optional tensors). */
    public static DataSet dataSet(Path dir) throws IOException {
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        List<Tensor> expected = new ArrayList<>();
        try {
            for (Path p : numbered(dir, "input")) {
                feeds.put(name(p), read(p));
            }
            for (Path p : numbered(dir, "output")) {
                expected.add(read(p));
            }
        } catch (RuntimeException e) {
            return null;
        }
        return new DataSet(feeds, expected);
    }

    /** The files input_0.pb, input_1.pb ... (or output_) of a data set folder, in order. */
    public static List<Path> numbered(Path dir, String prefix) {
        List<Path> r = new ArrayList<>();
        for (int i = 0; ; i++) {
            Path p = dir.resolve(prefix + "_" + i + ".pb");
            if (!Files.exists(p)) {
                return r;
            }
            r.add(p);
        }
    }

    /** Largest violation of |a-b| <= atol + rtol*|b| (0 when within), NaN-aware; -1 when shapes differ. */
    public static double excess(Tensor actual, Tensor expected, double atol, double rtol) {
        if (!java.util.Arrays.equals(actual.shape(), expected.shape())) {
            return -1;
        }
        if (actual.dtype() != expected.dtype() && !(actual.dtype().isFloating() && expected.dtype().isFloating())) {
            return -1;
        }
        float[] a = actual.toFloats();
        float[] b = expected.toFloats();
        double worst = 0;
        boolean exact = !expected.dtype().isFloating();
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) && Float.isNaN(b[i])) {
                continue;
            }
            if (Float.isInfinite(b[i]) && a[i] == b[i]) {
                continue;
            }
            double d = Math.abs((double) a[i] - b[i]);
            double allowed = exact ? 0 : atol + rtol * Math.abs(b[i]);
            if (Double.isNaN(d) || d > allowed) {
                worst = Math.max(worst, Double.isNaN(d) ? Double.MAX_VALUE : d - allowed);
            }
        }
        return worst;
    }

    static boolean isFloat(DataType t) {
        return t.isFloating();
    }
}
