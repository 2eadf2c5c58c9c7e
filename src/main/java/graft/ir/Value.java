package graft.ir;

/** A named graph input or output and its declared type (type may be null when undeclared). */
public record Value(String name, TensorType type) {
}
