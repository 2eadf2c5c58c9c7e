/**
 * Deployment conversions on the IR, after conversion and fine-tuning: half precision
 * ({@link graft.deploy.Fp16}). Each pass refuses what it cannot convert exactly and says what it
 * kept in full precision.
 */
package graft.deploy;
