/**
 * The reference executor: a small pure-Java interpreter of the IR's core catalogue ops,
 * independent of ONNX Runtime, so that each can check the other. Values are stored as float32
 * (integer and boolean tensors as int64) and every reduction accumulates in float64.
 * Knows only the IR ({@code graft.ir}) and the runtime's host {@code Tensor} type.
 */
package graft.exec;
