/**
 * Running models: {@link graft.runtime.OrtRunner} wraps an ONNX Runtime session (CPU, or CUDA
 * when built with the cuda profile); {@link graft.ir.Tensor} is the host tensor it takes
 * and gives. Graphs held in memory are exported to a temporary ONNX file first
 * ({@link graft.runtime.Sessions}).
 */
package graft.runtime;
