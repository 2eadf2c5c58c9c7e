package graft.ir;

/**
 * Element types, numbered as ONNX numbers them (TensorProto.DataType) so that the IR speaks
 * ONNX vocabulary without depending on the ONNX package.
 */
public enum DataType {
    FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), UINT16(4, 2), INT16(5, 2), INT32(6, 4), INT64(7, 8),
    STRING(8, 0), BOOL(9, 1), FLOAT16(10, 2), DOUBLE(11, 8), UINT32(12, 4), UINT64(13, 8),
    BFLOAT16(16, 2);

    private final int code;
    private final int size;

    DataType(int code, int size) {
        this.code = code;
        this.size = size;
    }

    /** The ONNX TensorProto.DataType number. */
    public int code() {
        return code;
    }

    /** Bytes per element; 0 for STRING, whose elements have no fixed size. */
    public int size() {
        return size;
    }

    public boolean isFloating() {
        return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
    }

    /** The type with this ONNX number, or null when graft does not know it. */
    public static DataType fromCode(int code) {
        for (DataType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        return null;
    }

    public String lowerName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
