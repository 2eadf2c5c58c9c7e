#!/usr/bin/env bash
# Whole-process benchmark for Caffe: `graft convert vgg16.caffemodel out.onnx` (a VGG16-size
# caffemodel, 528 MB of blobs, read alone: it carries its layers) against `cp` of the same
# file. Reports the median wall time of each, their ratio and graft's peak RSS against the
# model's size, through bench/convert_vs_cp.sh. Targets (issue 4): ratio <= 3, RSS <= 1.5x.
#
# Usage: bench/caffe_vs_cp.sh [RUNS]
#   The caffemodel is written once by graft from ../shared/corpus/caffe/vgg16/deploy.prototxt
#   and cached under target/models/caffe_vgg16/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
runs="${1:-5}"
dir=target/models/caffe_vgg16
model="$dir/vgg16.caffemodel"
if [ ! -f "$model" ]; then
  mkdir -p "$dir"
  deploy="$(cd "$here/.." && pwd)/shared/corpus/caffe/vgg16/deploy.prototxt"
  [ -f "$deploy" ] || deploy="$here/shared/corpus/caffe/vgg16/deploy.prototxt"
  ./graft convert "$deploy" "$model" >/dev/null
fi
exec bench/convert_vs_cp.sh "$model" "$runs"
