#!/usr/bin/env bash
# Time per training step, graft (ONNX Runtime, one ONNX graph per step) against PyTorch, same
# machine, same run, same shapes, SGD momentum 0.9 with dropout on:
#   head:   Flatten(25088) -> Dense 256 relu -> Dropout 0.5 -> Dense 2, batch 32
#   block5: VGG16 block5 (3 x conv3x3 512, maxpool) + that head, batch 8, 14x14x512 inputs
# Target (issue 7): graft at most 1.0x PyTorch's time. Usage: bench/train_step_vs_torch.sh [STEPS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
steps="${1:-10}"
./graft --version >/dev/null   # build outside the timings
work="$(mktemp -d "${TMPDIR:-/tmp}/graft-train-bench.XXXX")"
trap 'rm -rf "$work"' EXIT
# the benchmark's main is not in graft's jar: compiled here against it (package graft.train, for its package-private step API)
cp="target/graft-0.1.0.jar:target/lib/*"
javac --release 17 -cp "$cp" -d "$work/classes" bench/train/StepBenchmark.java
cp="$work/classes:$cp"
torch_out=$(OMP_NUM_THREADS="${BENCH_THREADS:-2}" /usr/bin/python3 bench/train_step_torch.py "$work" "$steps")
for spec in "head 32 512 7 7" "block5 8 512 14 14"; do
  set -- $spec
  g=$(java -Xmx4g -cp "$cp" graft.train.StepBenchmark "$work/$1.onnx" "$2" "$3" "$4" "$5" "$steps")
  t=$(echo "$torch_out" | awk -v n="$1" '$1 == n {print $2}')
  awk -v n="$1" -v g="$g" -v t="$t" -v b="$2" 'BEGIN {
    printf "%-7s batch %-3d graft %9.1f ms/step   torch %9.1f ms/step   ratio %.2fx (target <= 1.0x)\n", n, b, g, t, g / t }'
done
