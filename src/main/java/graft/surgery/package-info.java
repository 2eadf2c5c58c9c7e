/**
 * Surgery: edits on the IR (pop, cut, remove, insert, replace, heads, classes, renames,
 * re-initialisation, input shapes, conv-pair replacement, freezing and multipliers, batch-norm
 * folding), the recipes that list them, and a fluent Java builder ({@link graft.surgery.Surgery}).
 *
 * <p>Format-free: this package knows only {@code graft.ir}. Layers are addressed by the source
 * layer names and numbered as {@link graft.ir.LayerTable} (and {@code graft inspect}) numbers
 * them. Every {@link graft.surgery.Edit} checks all its preconditions before touching the graph,
 * then rewires, removes what became unreachable, re-infers shapes, validates, and records one
 * provenance line. Edits are not thread-safe; they mutate the graph they are given, and
 * {@link graft.surgery.Surgery#apply()} works on a copy so a failed recipe leaves the input as it
 * was. New weights are produced lazily and deterministically from a seed.
 */
package graft.surgery;
