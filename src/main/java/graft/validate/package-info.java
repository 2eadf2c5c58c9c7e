/**
 * Numerical proof that two models compute the same function: seeded or given inputs, the
 * comparison metrics, per-layer divergence walked one segment at a time, and the structural
 * and weight diff of two graphs. Knows only the IR, the runtime and the reference executor,
 * so every format graft reads is compared the same way.
 */
package graft.validate;
