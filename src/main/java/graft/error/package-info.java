/**
 * The error hierarchy: one unchecked root, {@link graft.error.GraftException}, and precise
 * subclasses, each mapped by the command line to one documented exit code.
 */
package graft.error;
