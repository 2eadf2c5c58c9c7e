package graft.ir;

import java.util.Arrays;

/**
 * A convolution's window, as ONNX defines its defaults: {@code kernel_shape} (default: the
 * weight's spatial dimensions), {@code strides} and {@code dilations} (default: 1 on every spatial
 * axis) and {@code group} (default 1). For Conv and ConvTranspose, whose weight is (O, I/g, k...) or
 * (I, O/g, k...): either way its dimensions after the first two are the kernel's.
 */
public record ConvGeometry(long[] kernel, long[] strides, long[] dilations, long group) {

    /** The geometry of Conv or ConvTranspose {@code n} with weight shape {@code weight}. */
    public static ConvGeometry of(Node n, long[] weight) {
        long[] ones = new long[Math.max(0, weight.length - 2)];
        Arrays.fill(ones, 1);
        return new ConvGeometry(n.intsAttr("kernel_shape", Arrays.copyOfRange(weight, 2, weight.length)), n.intsAttr("strides", ones),
                n.intsAttr("dilations", ones), n.intAttr("group"));
    }
}
