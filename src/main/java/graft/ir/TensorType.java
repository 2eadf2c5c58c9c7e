package graft.ir;

/** Element type and shape of a value; {@code shape} is null when even the rank is unknown. */
public record TensorType(DataType dtype, Shape shape) {
    @Override
    public String toString() {
        return dtype.lowerName() + (shape == null ? "(?)" : shape.toString());
    }
}
