/**
 * The graph IR: nodes in ONNX vocabulary tagged with their source layer, an op catalogue
 * ({@link graft.ir.Op}) with schemas, weights as handles over (usually memory-mapped) bytes
 * with pending layout transforms, shape inference with symbolic dimensions, and a validator.
 * This package knows no file format; a test keeps it so.
 */
package graft.ir;
