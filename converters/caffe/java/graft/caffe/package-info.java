/**
 * Caffe in and out: {@code .prototxt} (protobuf text format of {@code NetParameter}) and
 * {@code .caffemodel} (the binary {@code NetParameter} with blobs), legacy V1 {@code layers}
 * and V2 {@code layer} alike. The caffemodel is memory-mapped and scanned by hand so that blob
 * data become {@link graft.ir.Weight} views over the mapping; the rest of each layer is parsed
 * by protobuf-java. Nothing here is shared between threads.
 */
package graft.caffe;
