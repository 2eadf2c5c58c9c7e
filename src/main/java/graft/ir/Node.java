package graft.ir;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operation of the graph in ONNX vocabulary. Immutable: edits build new nodes with the
 * {@code with*} methods. {@code layer} is the name of the source layer the node came from
 * (Keras layer, Caffe layer, ONNX node); surgery addresses layers by it. {@code extras}
 * holds bytes a format keeps for a faithful round trip (unknown fields, an opaque op's
 * original encoding); other formats ignore them.
 */
public final class Node {
    private final String name;
    private final String opType;
    private final String domain;
    private final String layer;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, Attr> attrs;
    private final Map<String, byte[]> extras;

    public Node(String name, String opType, String domain, String layer, List<String> inputs, List<String> outputs,
                Map<String, Attr> attrs, Map<String, byte[]> extras) {
        this.name = name == null ? "" : name;
        this.opType = opType;
        this.domain = domain == null ? "" : domain;
        this.layer = layer == null || layer.isEmpty() ? this.name : layer;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.attrs = Collections.unmodifiableMap(new LinkedHashMap<>(attrs));
        this.extras = Collections.unmodifiableMap(new LinkedHashMap<>(extras));
    }

    /** A catalogue node; attributes are checked against the op's schema. */
    public static Node of(Op op, String name, String layer, List<String> inputs, List<String> outputs, Map<String, Attr> attrs) {
        Node n = new Node(name, op.opName(), "", layer, inputs, outputs, attrs, Map.of());
        op.check(n);
        return n;
    }

    public String name() {
        return name;
    }

    public String opType() {
        return opType;
    }

    public String domain() {
        return domain;
    }

    public String layer() {
        return layer;
    }

    public List<String> inputs() {
        return inputs;
    }

    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    public List<String> outputs() {
        return outputs;
    }

    public String output(int i) {
        return outputs.get(i);
    }

    public Map<String, Attr> attrs() {
        return attrs;
    }

    public Attr attr(String key) {
        return attrs.get(key);
    }

    /**
     * An attribute, or ONNX's default when the node does not set it: its op's default when the
     * op declares the attribute, else the default every catalogue op declaring it shares
     * ({@link Op#sharedDefault}: a Conv read for {@code ceil_mode} by a helper shared with pooling
     * gets 0). Throws {@link IllegalStateException} when there is none (a caller bug: a mistyped
     * name, or an attribute whose default depends on the op, such as {@code axis}, read from a
     * node of an op that lacks it).
     */
    public Attr attrOrDefault(String key) {
        Attr a = attrs.get(key);
        if (a != null) {
            return a;
        }
        Op op = op();
        OpSchema.AttrSpec spec = op == null ? null : op.attribute(key);
        Attr dflt = spec != null ? spec.dflt() : Op.sharedDefault(key);
        if (dflt == null) {
            throw new IllegalStateException(opType + " '" + name + "': attribute '" + key + "' is not set and has no default in the catalogue");
        }
        return dflt;
    }

    /** An int attribute, or the op's ONNX default (see {@link #attrOrDefault}). */
    public long intAttr(String key) {
        return attrOrDefault(key).asInt();
    }

    /** A float attribute, or the op's ONNX default (see {@link #attrOrDefault}). */
    public float floatAttr(String key) {
        Attr a = attrOrDefault(key);
        return a.kind() == Attr.Kind.INT ? a.asInt() : a.asFloat();
    }

    /** A string attribute, or the op's ONNX default (see {@link #attrOrDefault}). */
    public String stringAttr(String key) {
        return attrOrDefault(key).asString();
    }

    public long intAttr(String key, long dflt) {
        Attr a = attrs.get(key);
        return a == null ? dflt : a.asInt();
    }

    public float floatAttr(String key, float dflt) {
        Attr a = attrs.get(key);
        return a == null ? dflt : a.asFloat();
    }

    public String stringAttr(String key, String dflt) {
        Attr a = attrs.get(key);
        return a == null ? dflt : a.asString();
    }

    public long[] intsAttr(String key, long[] dflt) {
        Attr a = attrs.get(key);
        return a == null ? dflt : a.asInts();
    }

    public Map<String, byte[]> extras() {
        return extras;
    }

    /** The catalogue entry, or null for an op graft carries opaquely. */
    public Op op() {
        return Op.find(domain, opType);
    }

    public boolean isOpaque() {
        return op() == null;
    }

    public Node withInputs(List<String> in) {
        return new Node(name, opType, domain, layer, in, outputs, attrs, extras);
    }

    public Node withOutputs(List<String> out) {
        return new Node(name, opType, domain, layer, inputs, out, attrs, extras);
    }

    public Node withAttrs(Map<String, Attr> a) {
        return new Node(name, opType, domain, layer, inputs, outputs, a, extras);
    }

    public Node withAttr(String key, Attr value) {
        Map<String, Attr> a = new LinkedHashMap<>(attrs);
        if (value == null) {
            a.remove(key);
        } else {
            a.put(key, value);
        }
        return withAttrs(a);
    }

    public Node withName(String newName, String newLayer) {
        return new Node(newName, opType, domain, newLayer, inputs, outputs, attrs, extras);
    }

    public Node withExtras(Map<String, byte[]> e) {
        return new Node(name, opType, domain, layer, inputs, outputs, attrs, e);
    }

    @Override
    public String toString() {
        return opType + " '" + name + "' " + inputs + " -> " + outputs + (attrs.isEmpty() ? "" : " " + attrs);
    }
}
