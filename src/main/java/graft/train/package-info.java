/**
 * Fine-tuning on a plain ONNX Runtime session: reverse-mode differentiation over the IR
 * ({@link graft.train.Autodiff}, one gradient rule per op), losses, optimizers and schedules,
 * and the builder of one standard ONNX graph per training step ({@link graft.train.TrainingStep})
 * whose parameters and optimizer state stay in ONNX Runtime between steps.
 */
package graft.train;
