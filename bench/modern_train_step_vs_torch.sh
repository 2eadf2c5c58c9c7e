#!/usr/bin/env bash
# Issue #16: time per fine-tuning step, graft (its training step as one ONNX graph in ONNX Runtime,
# bench/train/StepBenchmark.java) against PyTorch 1.13 doing the same step, same machine, same run:
#   resnet50_stage5  Keras ResNet50's stage 5 (conv5_block1..3) + new head (GlobalAveragePool +
#                    Dense 5), batch 8, on cached conv4_block6_out tensors (8, 1024, 14, 14)
#   mobilenet_v2     torchvision MobileNetV2 (5 classes), whole network trainable, batch 8, 224x224
# SGD momentum 0.9, lr 0.01, cross-entropy; BatchNormalization frozen in both (graft's default
# --bn frozen; PyTorch: the BN modules in eval(), the rest in train(); gamma and beta train in
# both). Both models are written by bench/modern_train_step_torch.py (onnx.helper, the torch
# modules' own tensors). 2 warm-up steps, then the median of STEPS steps each.
# Target: graft <= 1.0x PyTorch. Usage: bench/modern_train_step_vs_torch.sh [STEPS]   (default 7)
# GRAFT_ORT_PROFILE=PREFIX writes ONNX Runtime's per-node trace of graft's steps (bench/ort_profile.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
steps="${1:-7}"
./graft --version >/dev/null   # build outside the timings
work="$(mktemp -d "${TMPDIR:-/tmp}/graft-modern-train.XXXX")"
trap 'rm -rf "$work"' EXIT
cp="target/graft-0.1.0.jar:target/lib/*"
javac --release 17 -cp "$cp" -d "$work/classes" bench/train/StepBenchmark.java
cp="$work/classes:$cp"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
torch_out=$(OMP_NUM_THREADS="${BENCH_THREADS:-2}" /usr/bin/python3 bench/modern_train_step_torch.py "$work" "$steps")
for spec in "resnet50_stage5 8 1024 14 14" "mobilenet_v2 8 3 224 224"; do
  set -- $spec
  g=$(java -Xmx6g -cp "$cp" graft.train.StepBenchmark "$work/$1.onnx" "$2" "$3" "$4" "$5" "$steps" median)
  t=$(echo "$torch_out" | awk -v n="$1" '$1 == n {print $2}')
  awk -v n="$1" -v g="$g" -v t="$t" -v b="$2" 'BEGIN {
    printf "%-16s batch %d   graft %9.1f ms/step   torch %9.1f ms/step   ratio %.2fx (target <= 1.0x)\n", n, b, g, t, g / t }'
done
echo "(median of $steps steps after 2 warm-up; $(date -u +%FT%TZ); load average before $load0, after $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores)"
