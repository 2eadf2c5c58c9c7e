package graft.ir;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import graft.testing.Python;
import graft.testing.TestPaths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The typed op catalogue ({@link Op}) against the ONNX package's own operator schemas at opset 17
 * (tests/oracle/onnx/op_schemas.py, Debian's python3-onnx): every attribute graft declares exists
 * in ONNX with the same kind and the same required flag, and every default graft declares is
 * ONNX's (floats compared as float32, exactly). Attributes ONNX gives a default and graft leaves
 * without one are listed (graft's callers then pass the value themselves).
 */
class OpCatalogueTest {
    /** Declared for later opsets than 17 (Cast.s saturate and AveragePool.s dilations are opset 19). */
    private static final Set<String> NEWER = Set.of("Cast.saturate", "AveragePool.dilations");

    @Test
    void everyAttributeSpecIsOnnxs() throws Exception {
        List<String> names = new ArrayList<>();
        for (Op op : Op.values()) {
            names.add(op.opName());
        }
        List<String> args = new ArrayList<>(names);
        JsonNode onnx = new ObjectMapper().readTree(Python.run(TestPaths.root().resolve("tests/oracle/onnx/op_schemas.py"),
                args.toArray(String[]::new)));
        Map<Attr.Kind, String> kinds = Map.of(Attr.Kind.INT, "INT", Attr.Kind.FLOAT, "FLOAT", Attr.Kind.STRING, "STRING",
                Attr.Kind.INTS, "INTS", Attr.Kind.FLOATS, "FLOATS", Attr.Kind.STRINGS, "STRINGS", Attr.Kind.TENSOR, "TENSOR",
                Attr.Kind.OPAQUE, "SPARSE_TENSOR");
        int checked = 0;
        int defaults = 0;
        List<String> withoutDefault = new ArrayList<>();
        for (Op op : Op.values()) {
            JsonNode spec = onnx.get(op.opName());
            assertThat(spec).as(op.opName()).isNotNull();
            for (OpSchema.AttrSpec a : op.attributes()) {
                String id = op.opName() + "." + a.name();
                if (NEWER.contains(id)) {
                    continue;
                }
                JsonNode o = spec.get(a.name());
                assertThat(o).as(id + " exists in ONNX opset 17").isNotNull();
                assertThat(o.get("type").asText()).as(id + " kind").isEqualTo(kinds.get(a.kind()));
                assertThat(o.get("required").asBoolean()).as(id + " required").isEqualTo(a.required());
                JsonNode d = o.get("default");
                if (a.dflt() != null) {
                    assertThat(d.isNull()).as(id + ": graft declares a default ONNX does not have").isFalse();
                    switch (a.kind()) {
                        case INT -> assertThat(a.dflt().asInt()).as(id + " default").isEqualTo(d.asLong());
                        case FLOAT -> assertThat(Float.floatToIntBits(a.dflt().asFloat())).as(id + " default " + a.dflt().asFloat() + " vs " + d)
                                .isEqualTo(Float.floatToIntBits((float) d.asDouble()));
                        case STRING -> assertThat(a.dflt().asString()).as(id + " default").isEqualTo(d.asText());
                        default -> throw new AssertionError(id + ": unexpected default kind " + a.kind());
                    }
                    defaults++;
                } else if (!d.isNull() && !a.required()) {
                    withoutDefault.add(id + "=" + d);
                }
                checked++;
            }
        }
        System.out.println("op catalogue: " + checked + " attributes of " + Op.values().length + " ops match ONNX opset 17, " + defaults
                + " defaults equal; ONNX defaults graft leaves to callers: " + withoutDefault);
        assertThat(withoutDefault).as("ONNX defaults the catalogue does not declare").isEmpty();
    }

    @Test
    void aNodeWithoutTheAttributeGetsTheDefault() {
        Node n = Node.of(Op.GEMM, "g", "g", List.of("a", "b"), List.of("y"), Map.of("transB", Attr.of(1L)));
        assertThat(n.intAttr("transB")).isEqualTo(1);
        assertThat(n.intAttr("transA")).isZero();
        assertThat(n.floatAttr("alpha")).isEqualTo(1f);
        Node c = Node.of(Op.CONV, "c", "c", List.of("x", "w"), List.of("y"), Map.of());
        assertThat(c.intAttr("group")).isEqualTo(1);
        assertThat(c.stringAttr("auto_pad")).isEqualTo("NOTSET");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.attrOrDefault("pads")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no default");
    }

    /**
     * An attribute the node's op does not declare reads as the default every declaring op shares
     * (shared conv/pool helpers read ceil_mode from a Conv), and is refused where the ops differ
     * (axis: Flatten 1, Softmax -1, Gather 0) or one requires it (Concat's axis, LRN's size).
     */
    @Test
    void anAttributeTheOpLacksReadsTheSharedDefaultOrNone() {
        // the ONNX defaults, from the operator spec (opset 17)
        assertThat(Op.sharedDefault("ceil_mode")).isEqualTo(Attr.of(0L));
        assertThat(Op.sharedDefault("group")).isEqualTo(Attr.of(1L));
        assertThat(Op.sharedDefault("auto_pad")).isEqualTo(Attr.of("NOTSET"));
        assertThat(Op.sharedDefault("count_include_pad")).isEqualTo(Attr.of(0L));
        assertThat(Op.sharedDefault("axis")).isNull();
        assertThat(Op.sharedDefault("alpha")).isNull();
        assertThat(Op.sharedDefault("size")).isNull();
        assertThat(Op.sharedDefault("no_such_attribute")).isNull();
        Node conv = Node.of(Op.CONV, "c", "c", List.of("x", "w"), List.of("y"), Map.of());
        assertThat(conv.intAttr("ceil_mode")).isZero();
        assertThat(conv.intAttr("storage_order")).isZero();
        Node mm = Node.of(Op.MAT_MUL, "m", "m", List.of("a", "b"), List.of("y"), Map.of());
        assertThat(mm.intAttr("transA")).isZero();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> mm.floatAttr("alpha")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'alpha'");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> mm.intAttr("axis")).isInstanceOf(IllegalStateException.class);
        Node flat = Node.of(Op.FLATTEN, "f", "f", List.of("x"), List.of("y"), Map.of());
        assertThat(flat.intAttr("axis")).isEqualTo(1);
    }
}
