package graft.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import graft.error.RuntimeFailureException;
import graft.error.RuntimeRefusalException;
import graft.error.UsageException;
import graft.ir.DataType;
import graft.ir.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ONNX Runtime session over an ONNX file. Opened the fast way measured for VGG16: weight
 * pre-packing off ({@code session.disable_prepacking=1}), which with external-data weights
 * lets ONNX Runtime map them instead of copying; on for integer-quantized models, whose kernels
 * need it (see {@link #open(Path, Device, boolean)}). Not thread-safe; close it to free native
 * memory. Input tensors are passed from direct buffers without a copy; outputs are copied
 * into fresh direct buffers owned by the caller.
 */
public final class OrtRunner implements AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;

    private OrtRunner(OrtEnvironment env, OrtSession session) {
        this.env = env;
        this.session = session;
    }

    /**
     * ONNX Runtime's log level for graft's own sessions: ERROR, so that a user sees graft's one-line
     * messages rather than ONNX Runtime's warnings about models it runs anyway; WARNING with -v.
     */
    private static volatile OrtLoggingLevel logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;

    /** With {@code verbose}, ONNX Runtime's warnings are shown too (set before the first session). */
    public static void verbose(boolean verbose) {
        logLevel = verbose ? OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING : OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR;
    }

    /**
     * The process's ONNX Runtime environment, created at {@link #verbose}'s log level on first use.
     * A native library that cannot be loaded is the machine's fault, not the model's.
     */
    public static OrtEnvironment environment() {
        try {
            return OrtEnvironment.getEnvironment(logLevel);
        } catch (LinkageError e) {
            Throwable c = e;
            while (c.getCause() != null) {
                c = c.getCause();
            }
            throw new graft.error.EnvironmentException("ONNX Runtime's native library cannot be loaded (" + oneLine(String.valueOf(c.getMessage()))
                    + "). Reinstall graft, or point -Donnxruntime.native.path at a folder holding libonnxruntime", e);
        }
    }

    public static OrtRunner open(Path onnxFile, Device device) {
        return open(onnxFile, device, false);
    }

    /**
     * As {@link #open(Path, Device)}; with {@code prepack}, ONNX Runtime keeps its weight pre-packing (a copy of the
     * weights in its kernels' layout). graft turns it on for integer-quantized models only: their int8 weights are a
     * quarter of the float ones, and without it ONNX Runtime's integer kernels repack on every run
     * (bench/quantize_latency.txt: INT8 VGG16 0.49x of FP32 at batch 1 without, 0.15x with).
     */
    public static OrtRunner open(Path onnxFile, Device device, boolean prepack) {
        OrtEnvironment env = environment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setSessionLogLevel(logLevel);
            if (!prepack) {
                opts.addConfigEntry("session.disable_prepacking", "1");
            }
            if (device == Device.CUDA) {
                try {
                    opts.addCUDA(0);
                } catch (OrtException | UnsatisfiedLinkError | IllegalArgumentException e) {
                    throw new UsageException("--device cuda: this build of graft has no CUDA provider ("
                            + e.getMessage().lines().findFirst().orElse("") + "); rebuild with 'mvn -Pcuda package' on a machine with CUDA");
                }
            }
            return new OrtRunner(env, env.createSession(onnxFile.toString(), opts));
        } catch (OrtException e) {
            throw new RuntimeRefusalException("ONNX Runtime cannot open '" + onnxFile + "': " + firstLine(e), e);
        }
    }

    /** ONNX Runtime's whole message on one line (it spreads one sentence over several). */
    static String firstLine(Exception e) {
        return oneLine(String.valueOf(e.getMessage()));
    }

    static String oneLine(String m) {
        return m.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** Input names with their declared shapes (-1 for symbolic dimensions) and types. */
    public Map<String, TensorSpec> inputs() {
        return specs(true);
    }

    public Map<String, TensorSpec> outputs() {
        return specs(false);
    }

    /** Declared shape (-1 where symbolic, with the symbol in {@code symbols}) and type. */
    public record TensorSpec(DataType dtype, long[] shape, String[] symbols) {
    }

    private Map<String, TensorSpec> specs(boolean in) {
        try {
            Map<String, NodeInfo> m = in ? session.getInputInfo() : session.getOutputInfo();
            Map<String, TensorSpec> r = new LinkedHashMap<>();
            for (NodeInfo ni : m.values()) {
                if (ni.getInfo() instanceof TensorInfo ti) {
                    r.put(ni.getName(), new TensorSpec(fromOnnx(ti.onnxType), ti.getShape(), ti.getDimensionNames()));
                }
            }
            return r;
        } catch (OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime: " + firstLine(e), e);
        }
    }

    /** Runs the session; returns every requested output (all when {@code wanted} is empty). */
    public Map<String, Tensor> run(Map<String, Tensor> feeds, List<String> wanted) {
        List<OnnxTensor> made = new ArrayList<>();
        try {
            Map<String, OnnxTensor> in = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                OnnxTensor t = toOnnx(e.getValue());
                made.add(t);
                in.put(e.getKey(), t);
            }
            try (OrtSession.Result res = wanted == null || wanted.isEmpty() ? session.run(in)
                    : session.run(in, new java.util.LinkedHashSet<>(wanted))) {
                Map<String, Tensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : res) {
                    if (e.getValue() instanceof OnnxTensor t) {
                        out.put(e.getKey(), fromOnnx(t));
                    }
                }
                return out;
            }
        } catch (OrtException e) {
            throw new RuntimeFailureException("ONNX Runtime failed to run: " + firstLine(e), e);
        } finally {
            made.forEach(OnnxTensor::close);
        }
    }

    public Map<String, Tensor> run(Map<String, Tensor> feeds) {
        return run(feeds, List.of());
    }

    private OnnxTensor toOnnx(Tensor t) throws OrtException {
        ByteBuffer b = t.data().duplicate();
        if (!b.isDirect()) {
            ByteBuffer d = ByteBuffer.allocateDirect(b.remaining());
            d.put(b).flip();
            b = d;
        }
        b.order(ByteOrder.nativeOrder());
        return switch (t.dtype()) {
            case FLOAT -> OnnxTensor.createTensor(env, b.asFloatBuffer(), t.shape());
            case DOUBLE -> OnnxTensor.createTensor(env, b.asDoubleBuffer(), t.shape());
            case INT64 -> OnnxTensor.createTensor(env, b.asLongBuffer(), t.shape());
            case INT32 -> OnnxTensor.createTensor(env, b.asIntBuffer(), t.shape());
            case UINT8 -> OnnxTensor.createTensor(env, b, t.shape(), OnnxJavaType.UINT8);
            case INT8 -> OnnxTensor.createTensor(env, b, t.shape(), OnnxJavaType.INT8);
            case BOOL -> OnnxTensor.createTensor(env, b, t.shape(), OnnxJavaType.BOOL);
            case FLOAT16 -> OnnxTensor.createTensor(env, b, t.shape(), OnnxJavaType.FLOAT16);
            case INT16 -> OnnxTensor.createTensor(env, b.asShortBuffer(), t.shape());
            default -> throw new UsageException("ONNX Runtime input of type " + t.dtype() + " is not supported by graft run");
        };
    }

    private static Tensor fromOnnx(OnnxTensor t) {
        TensorInfo info = t.getInfo();
        DataType dt = fromOnnx(info.onnxType);
        ByteBuffer src = t.getByteBuffer();
        ByteBuffer copy = ByteBuffer.allocateDirect(src == null ? 0 : src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        if (src != null) {
            copy.put(src.order(ByteOrder.nativeOrder())).flip();
        }
        return new Tensor(dt, info.getShape(), copy);
    }

    static DataType fromOnnx(TensorInfo.OnnxTensorType t) {
        return switch (t) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FLOAT;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.DOUBLE;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FLOAT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BFLOAT16;
            default -> DataType.STRING;
        };
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing a session cannot fail in a way the caller can act on
        }
    }
}
