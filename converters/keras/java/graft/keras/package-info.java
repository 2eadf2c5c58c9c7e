/**
 * Keras in and out: Keras 1/2 and tf.keras HDF5 files ({@code .h5}/{@code .hdf5}, full models
 * and weights-only files with a separate architecture JSON) and Keras 3 {@code .keras} zips,
 * read with jhdf into the IR and written back as Keras 2 full-model {@code .h5}.
 *
 * <p>Layout: the IR is NCHW. The imported graph keeps Keras's own input and output layout
 * (NHWC for channels_last models) so Keras's inputs and predictions apply unchanged; the
 * importer inserts one Transpose after the input and one before each 4-D output, and works
 * NCHW in between. Kernels are converted by pending {@link graft.ir.LayoutTransform}s, never
 * eagerly. Weights of contiguous float32 datasets are views over jhdf's mapping of the file.
 * Nothing here is thread-safe; each read or write is confined to one thread.
 */
package graft.keras;
