/**
 * Files: safe opening (LFS pointers, sizes, memory mapping), safe writing (temporary file
 * then rename), the {@link graft.io.ModelFormat} interface formats implement, and .npy.
 */
package graft.io;
