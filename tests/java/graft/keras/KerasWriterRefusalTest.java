package graft.keras;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import graft.error.UnsupportedModelException;
import graft.io.Options;
import graft.ir.Attr;
import graft.ir.DataType;
import graft.ir.Graph;
import graft.ir.Node;
import graft.ir.Op;
import graft.ir.Shape;
import graft.ir.TensorType;
import graft.ir.Value;
import graft.ir.Weight;
import graft.testing.TestPaths;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * #15, Keras writer: what the new mappings cannot express exactly is refused by node name, all
 * at once, never approximated: a 1-D convolution and pooling (graft writes 2-D layers; before
 * the data_format change a 1-D Conv was refused as "channels not last", and with that check gone
 * it must not reach the 2-D code), a Clip other than Clip(0, m), a Slice of the channel axis, a
 * ConvTranspose whose pads are neither Keras "valid" nor "same".
 */
class KerasWriterRefusalTest {
    @Test
    void inexpressibleNodesAreRefusedByNameAllAtOnce() {
        Graph g = new Graph("refusals");
        g.inputs().add(new Value("seq", new TensorType(DataType.FLOAT, Shape.of(1, 3, 10))));
        g.inputs().add(new Value("img", new TensorType(DataType.FLOAT, Shape.of(1, 3, 6, 6))));
        g.addInitializer(Weight.ofFloats("w1", new long[] {2, 3, 3}, new float[18]));
        g.nodes().add(Node.of(Op.CONV, "conv1d", "conv1d", List.of("seq", "w1"), List.of("c1"), Map.of("kernel_shape", Attr.ints(3))));
        g.nodes().add(Node.of(Op.MAX_POOL, "pool1d", "pool1d", List.of("seq"), List.of("p1"), Map.of("kernel_shape", Attr.ints(2))));
        g.addInitializer(Weight.ofFloats("lo", new long[0], new float[] {-1f}));
        g.addInitializer(Weight.ofFloats("hi", new long[0], new float[] {1f}));
        g.nodes().add(Node.of(Op.CLIP, "hardtanh", "hardtanh", List.of("img", "lo", "hi"), List.of("h"), Map.of()));
        g.addInitializer(Weight.ofLongs("st", new long[] {1}, new long[] {1}));
        g.addInitializer(Weight.ofLongs("en", new long[] {1}, new long[] {2}));
        g.addInitializer(Weight.ofLongs("ax", new long[] {1}, new long[] {1}));
        g.nodes().add(Node.of(Op.SLICE, "channel_slice", "channel_slice", List.of("img", "st", "en", "ax"), List.of("s"), Map.of()));
        g.addInitializer(Weight.ofFloats("wt", new long[] {3, 2, 3, 3}, new float[54]));
        g.nodes().add(Node.of(Op.CONV_TRANSPOSE, "deconv", "deconv", List.of("img", "wt"), List.of("d"),
                Map.of("kernel_shape", Attr.ints(3, 3), "strides", Attr.ints(2, 2), "pads", Attr.ints(1, 1, 0, 0))));
        for (String o : List.of("c1", "p1", "h", "s", "d")) {
            g.outputs().add(new Value(o, null));
        }
        Path out = TestPaths.scratch("keras-writer-refusals").resolve("x.h5");
        assertThatThrownBy(() -> new KerasFormat().write(g, out, Options.none()))
                .isInstanceOf(UnsupportedModelException.class)
                .hasMessageContaining("5 nodes Keras cannot express")
                .hasMessageContaining("conv1d (Conv: over a rank-3 tensor")
                .hasMessageContaining("pool1d (MaxPool: over a rank-3 tensor")
                .hasMessageContaining("hardtanh (Clip: a Clip other than Clip(0, max)")
                .hasMessageContaining("channel_slice (Slice: a Slice of the batch or channel axis")
                .hasMessageContaining("deconv (ConvTranspose: pads [1, 1, 0, 0]")
                .hasMessageNotContaining("\n");
        assertThat(out).doesNotExist();
    }
}
