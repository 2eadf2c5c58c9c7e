package graft.onnx;

import com.google.protobuf.ByteString;
import graft.error.MalformedModelException;
import graft.error.UnsupportedModelException;
import graft.io.ModelFiles;
import graft.ir.DataType;
import graft.ir.FileRegion;
import graft.ir.Weight;
import graft.ir.WeightData;
import graft.onnx.proto.Onnx.StringStringEntryProto;
import graft.onnx.proto.Onnx.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * TensorProto to {@link Weight}: raw_data becomes a view over the memory-mapped model (no
 * copy), external data a view over the mapped data file, typed fields a lazily decoded copy.
 * Every declared size is checked against the bytes actually present before anything is
 * allocated, so a dims field claiming 10^12 elements is an error, not an OutOfMemoryError.
 */
final class OnnxTensors {
    private OnnxTensors() {
    }

    static Weight toWeight(TensorProto t, Path file, long fileSize) {
        return toWeight(t, file, fileSize, null);
    }

    /** {@code rawAt}: {offset, length} of the raw_data in {@code file} when known, else null. */
    static Weight toWeight(TensorProto t, Path file, long fileSize, long[] rawAt) {
        String name = t.getName();
        DataType dt = DataType.fromCode(t.getDataType());
        if (dt == null || dt == DataType.STRING) {
            throw new UnsupportedModelException("tensor '" + name + "' (" + file + "): element type " + t.getDataType()
                    + " is not supported by graft");
        }
        long[] dims = new long[t.getDimsCount()];
        long count = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = t.getDims(i);
            if (dims[i] < 0) {
                throw new MalformedModelException(file, "tensor '" + name + "' has negative dimension " + dims[i]);
            }
            try {
                count = Math.multiplyExact(count, dims[i]);
            } catch (ArithmeticException e) {
                throw new MalformedModelException(file, "tensor '" + name + "' declares dims " + java.util.Arrays.toString(dims)
                        + ", more elements than any file can hold");
            }
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(count, (long) dt.size());
        } catch (ArithmeticException e) {
            throw new MalformedModelException(file, "tensor '" + name + "' declares " + count + " elements, more than any file can hold");
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return external(t, name, dt, dims, bytes, file);
        }
        if (t.hasRawData()) {
            ByteString raw = t.getRawData();
            if (raw.size() != bytes) {
                throw new MalformedModelException(file, "tensor '" + name + "' declares dims " + java.util.Arrays.toString(dims)
                        + " (" + bytes + " bytes of " + dt.lowerName() + ") but holds " + raw.size() + " bytes");
            }
            WeightData data = rawAt != null && rawAt[1] == bytes
                    ? WeightData.mapped(raw.asReadOnlyByteBuffer(), new FileRegion(ModelFiles.source(file), rawAt[0], rawAt[1]))
                    : WeightData.of(raw.asReadOnlyByteBuffer());
            return new Weight(name, dt, dims, data);
        }
        if (bytes > fileSize * 8 + 64) {
            // typed fields can never hold more elements than the file has bytes
            throw new MalformedModelException(file, "tensor '" + name + "' declares dims " + java.util.Arrays.toString(dims)
                    + " (" + count + " elements) but the file is only " + fileSize + " bytes");
        }
        int have = typedCount(t, dt);
        if (have != count) {
            throw new MalformedModelException(file, "tensor '" + name + "' declares " + count + " elements but holds " + have);
        }
        final int n = (int) count;
        return new Weight(name, dt, dims, WeightData.lazy(bytes, () -> decodeTyped(t, dt, n)));
    }

    private static Weight external(TensorProto t, String name, DataType dt, long[] dims, long bytes, Path file) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = parseLong(e.getValue(), file, name, "offset");
                case "length" -> length = parseLong(e.getValue(), file, name, "length");
                default -> {
                    // checksum and future keys: not needed to read
                }
            }
        }
        if (location == null || location.isEmpty()) {
            throw new MalformedModelException(file, "tensor '" + name + "' is external but names no location");
        }
        Path data = ModelFiles.resolveInside(file, location);
        if (length >= 0 && length != bytes) {
            throw new MalformedModelException(file, "tensor '" + name + "' declares " + bytes + " bytes but its external length is " + length);
        }
        if (!java.nio.file.Files.isRegularFile(data)) {
            throw new MalformedModelException(file, "tensor '" + name + "' lives in external file '" + location + "', which is missing");
        }
        data = ModelFiles.source(data);
        ByteBuffer region = ModelFiles.map(data, offset, bytes);
        return new Weight(name, dt, dims, WeightData.mapped(region, new FileRegion(data, offset, bytes)));
    }

    private static long parseLong(String v, Path file, String name, String what) {
        try {
            long r = Long.parseLong(v.trim());
            if (r < 0) {
                throw new NumberFormatException();
            }
            return r;
        } catch (NumberFormatException e) {
            throw new MalformedModelException(file, "tensor '" + name + "' has external " + what + " '" + v + "', not a size");
        }
    }

    private static int typedCount(TensorProto t, DataType dt) {
        return switch (dt) {
            case FLOAT -> t.getFloatDataCount();
            case DOUBLE -> t.getDoubleDataCount();
            case INT64 -> t.getInt64DataCount();
            case UINT32, UINT64 -> t.getUint64DataCount();
            default -> t.getInt32DataCount();
        };
    }

    private static ByteBuffer decodeTyped(TensorProto t, DataType dt, int n) {
        ByteBuffer b = ByteBuffer.allocateDirect(n * dt.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            switch (dt) {
                case FLOAT -> b.putFloat(t.getFloatData(i));
                case DOUBLE -> b.putDouble(t.getDoubleData(i));
                case INT64 -> b.putLong(t.getInt64Data(i));
                case UINT64 -> b.putLong(t.getUint64Data(i));
                case UINT32 -> b.putInt((int) t.getUint64Data(i));
                case INT32 -> b.putInt(t.getInt32Data(i));
                case FLOAT16, BFLOAT16, INT16, UINT16 -> b.putShort((short) t.getInt32Data(i));
                case INT8, UINT8, BOOL -> b.put((byte) t.getInt32Data(i));
                default -> throw new IllegalStateException("no typed field for " + dt);
            }
        }
        b.flip();
        return b;
    }
}
