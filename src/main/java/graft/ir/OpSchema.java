package graft.ir;

import java.util.List;

/** What a catalogue op takes and gives: input and output counts, attributes, weight slots. */
public interface OpSchema {
    String opName();

    int minInputs();

    int maxInputs();

    int minOutputs();

    int maxOutputs();

    List<AttrSpec> attributes();

    /** Inputs that normally hold weights, with their canonical layout (e.g. 1 = "OIHW"). */
    List<WeightSlot> weightSlots();

    /** One attribute: its name, kind, whether a node must have it, and ONNX's default (null when required or when it has none). */
    record AttrSpec(String name, Attr.Kind kind, boolean required, Attr dflt) {
    }

    /** One weight input: its index, a name for people, and its canonical layout. */
    record WeightSlot(int input, String role, String layout) {
    }
}
