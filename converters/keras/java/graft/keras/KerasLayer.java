package graft.keras;

import java.util.HashMap;
import java.util.Map;

/**
 * The Keras layer classes graft converts. The importer switches over this enum (so the
 * compiler reports a class without a mapping); a class missing here is refused, listed with
 * every other missing one.
 */
enum KerasLayer {
    INPUT_LAYER("InputLayer"),
    CONV2D("Conv2D"),
    CONV2D_TRANSPOSE("Conv2DTranspose"),
    DEPTHWISE_CONV2D("DepthwiseConv2D"),
    SEPARABLE_CONV2D("SeparableConv2D"),
    LOCALLY_CONNECTED2D("LocallyConnected2D"),
    MAX_POOLING2D("MaxPooling2D"),
    AVERAGE_POOLING2D("AveragePooling2D"),
    GLOBAL_AVERAGE_POOLING2D("GlobalAveragePooling2D"),
    GLOBAL_MAX_POOLING2D("GlobalMaxPooling2D"),
    ZERO_PADDING2D("ZeroPadding2D"),
    CROPPING2D("Cropping2D"),
    UP_SAMPLING2D("UpSampling2D"),
    FLATTEN("Flatten"),
    DENSE("Dense"),
    DROPOUT("Dropout"),
    SPATIAL_DROPOUT2D("SpatialDropout2D"),
    GAUSSIAN_NOISE("GaussianNoise"),
    GAUSSIAN_DROPOUT("GaussianDropout"),
    ALPHA_DROPOUT("AlphaDropout"),
    ACTIVATION("Activation"),
    RELU("ReLU"),
    LEAKY_RELU("LeakyReLU"),
    PRELU("PReLU"),
    ELU("ELU"),
    THRESHOLDED_RELU("ThresholdedReLU"),
    SOFTMAX("Softmax"),
    BATCH_NORMALIZATION("BatchNormalization"),
    ADD("Add"),
    SUBTRACT("Subtract"),
    MULTIPLY("Multiply"),
    AVERAGE("Average"),
    MAXIMUM("Maximum"),
    MINIMUM("Minimum"),
    CONCATENATE("Concatenate"),
    RESHAPE("Reshape"),
    PERMUTE("Permute"),
    RESCALING("Rescaling"),
    NORMALIZATION("Normalization");

    final String className;
    private static final Map<String, KerasLayer> BY_CLASS = new HashMap<>();

    static {
        for (KerasLayer k : values()) {
            BY_CLASS.put(k.className, k);
        }
    }

    KerasLayer(String className) {
        this.className = className;
    }

    /** The kind for a (canonical) Keras class name, or null when graft does not convert it. */
    static KerasLayer of(String cls) {
        return BY_CLASS.get(cls);
    }
}
