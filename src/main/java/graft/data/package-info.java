/**
 * Training data for fine-tuning: an image folder with one subfolder per class (JPEG/PNG via
 * javax.imageio, decoded in parallel), IDX files (MNIST, Fashion-MNIST), {@code .npy} arrays
 * with labels; resize, center crop, horizontal mirror; the model's own preprocessing from its
 * {@code preprocess.*} metadata. Samples are held in memory as float32 NCHW.
 */
package graft.data;
