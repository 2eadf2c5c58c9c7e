/**
 * Pictures of models: the layer graph of {@link graft.ir.LayerTable} laid out top to bottom by the
 * Eclipse Layout Kernel's layered algorithm, drawn as SVG or as one self-contained HTML page, and the
 * union graph of a {@link graft.validate.GraphDiff} with each layer coloured by what happened to it.
 *
 * <p>Format-free: reads the IR and the diff result only. Nothing here is thread-safe; every call
 * builds its own ELK graph.
 */
package graft.picture;
