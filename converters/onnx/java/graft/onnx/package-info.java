/**
 * ONNX in and out. {@link graft.onnx.OnnxImporter} maps the file and parses it with aliasing
 * (weights stay views over the mapping); {@link graft.onnx.OnnxExporter} streams weights to
 * the output. Unknown fields and unknown ops are carried in IR extras and written back.
 */
package graft.onnx;
