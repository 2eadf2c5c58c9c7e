package graft.caffe;

import graft.caffe.proto.Caffe.V1LayerParameter;
import java.util.HashMap;
import java.util.Map;

/**
 * The Caffe layer types graft converts, by their V2 type string and their V1 enum. A type not
 * listed here is refused by name, with every such layer of the net listed at once.
 */
enum CaffeLayerType {
    INPUT("Input", null, Role.INPUT),
    DATA("Data", V1LayerParameter.LayerType.DATA, Role.INPUT),
    IMAGE_DATA("ImageData", V1LayerParameter.LayerType.IMAGE_DATA, Role.INPUT),
    MEMORY_DATA("MemoryData", V1LayerParameter.LayerType.MEMORY_DATA, Role.INPUT),
    WINDOW_DATA("WindowData", V1LayerParameter.LayerType.WINDOW_DATA, Role.INPUT),
    HDF5_DATA("HDF5Data", V1LayerParameter.LayerType.HDF5_DATA, Role.INPUT),
    DUMMY_DATA("DummyData", V1LayerParameter.LayerType.DUMMY_DATA, Role.INPUT),
    CONVOLUTION("Convolution", V1LayerParameter.LayerType.CONVOLUTION, Role.COMPUTE),
    DECONVOLUTION("Deconvolution", V1LayerParameter.LayerType.DECONVOLUTION, Role.COMPUTE),
    POOLING("Pooling", V1LayerParameter.LayerType.POOLING, Role.COMPUTE),
    INNER_PRODUCT("InnerProduct", V1LayerParameter.LayerType.INNER_PRODUCT, Role.COMPUTE),
    RELU("ReLU", V1LayerParameter.LayerType.RELU, Role.COMPUTE),
    PRELU("PReLU", null, Role.COMPUTE),
    ELU("ELU", null, Role.COMPUTE),
    SIGMOID("Sigmoid", V1LayerParameter.LayerType.SIGMOID, Role.COMPUTE),
    TANH("TanH", V1LayerParameter.LayerType.TANH, Role.COMPUTE),
    ABSVAL("AbsVal", V1LayerParameter.LayerType.ABSVAL, Role.COMPUTE),
    POWER("Power", V1LayerParameter.LayerType.POWER, Role.COMPUTE),
    DROPOUT("Dropout", V1LayerParameter.LayerType.DROPOUT, Role.COMPUTE),
    LRN("LRN", V1LayerParameter.LayerType.LRN, Role.COMPUTE),
    SOFTMAX("Softmax", V1LayerParameter.LayerType.SOFTMAX, Role.COMPUTE),
    CONCAT("Concat", V1LayerParameter.LayerType.CONCAT, Role.COMPUTE),
    ELTWISE("Eltwise", V1LayerParameter.LayerType.ELTWISE, Role.COMPUTE),
    BATCH_NORM("BatchNorm", null, Role.COMPUTE),
    SCALE("Scale", null, Role.COMPUTE),
    FLATTEN("Flatten", V1LayerParameter.LayerType.FLATTEN, Role.COMPUTE),
    RESHAPE("Reshape", null, Role.COMPUTE),
    SPLIT("Split", V1LayerParameter.LayerType.SPLIT, Role.COMPUTE),
    SLICE("Slice", V1LayerParameter.LayerType.SLICE, Role.COMPUTE),
    SILENCE("Silence", V1LayerParameter.LayerType.SILENCE, Role.TRAINING),
    SOFTMAX_WITH_LOSS("SoftmaxWithLoss", V1LayerParameter.LayerType.SOFTMAX_LOSS, Role.TRAINING),
    EUCLIDEAN_LOSS("EuclideanLoss", V1LayerParameter.LayerType.EUCLIDEAN_LOSS, Role.TRAINING),
    SIGMOID_CROSS_ENTROPY_LOSS("SigmoidCrossEntropyLoss", V1LayerParameter.LayerType.SIGMOID_CROSS_ENTROPY_LOSS, Role.TRAINING),
    HINGE_LOSS("HingeLoss", V1LayerParameter.LayerType.HINGE_LOSS, Role.TRAINING),
    MULTINOMIAL_LOGISTIC_LOSS("MultinomialLogisticLoss", V1LayerParameter.LayerType.MULTINOMIAL_LOGISTIC_LOSS, Role.TRAINING),
    INFOGAIN_LOSS("InfogainLoss", V1LayerParameter.LayerType.INFOGAIN_LOSS, Role.TRAINING),
    CONTRASTIVE_LOSS("ContrastiveLoss", V1LayerParameter.LayerType.CONTRASTIVE_LOSS, Role.TRAINING),
    ACCURACY("Accuracy", V1LayerParameter.LayerType.ACCURACY, Role.TRAINING);

    /** What a layer is to the inference graph: a source of inputs, a computation, or training-only. */
    enum Role { INPUT, COMPUTE, TRAINING }

    private final String typeName;
    private final V1LayerParameter.LayerType v1;
    private final Role role;

    private static final Map<String, CaffeLayerType> BY_NAME = new HashMap<>();
    private static final Map<V1LayerParameter.LayerType, CaffeLayerType> BY_V1 = new HashMap<>();

    static {
        for (CaffeLayerType t : values()) {
            BY_NAME.put(t.typeName, t);
            if (t.v1 != null) {
                BY_V1.put(t.v1, t);
            }
        }
    }

    CaffeLayerType(String typeName, V1LayerParameter.LayerType v1, Role role) {
        this.typeName = typeName;
        this.v1 = v1;
        this.role = role;
    }

    String typeName() {
        return typeName;
    }

    Role role() {
        return role;
    }

    /** The type for a V2 type string, or null when graft does not convert it. */
    static CaffeLayerType of(String typeName) {
        return BY_NAME.get(typeName);
    }

    /** The V2 type string of a V1 enum value (what Caffe's own upgrade writes). */
    static String v2Name(V1LayerParameter.LayerType t) {
        CaffeLayerType c = BY_V1.get(t);
        if (c != null) {
            return c.typeName;
        }
        return switch (t) {
            case ARGMAX -> "ArgMax";
            case BNLL -> "BNLL";
            case EXP -> "Exp";
            case HDF5_OUTPUT -> "HDF5Output";
            case IM2COL -> "Im2col";
            case MVN -> "MVN";
            case THRESHOLD -> "Threshold";
            default -> t.name();
        };
    }
}
