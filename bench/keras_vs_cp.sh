#!/usr/bin/env bash
# Whole-process benchmark for Keras import: `graft convert vgg16.h5 out.onnx` against `cp` of
# the .h5 (median of RUNS each, ratio, graft's peak RSS against the model size). Targets
# (issue 3): ratio <= 3, peak RSS <= 1.5 x model size.
#
# Usage: bench/keras_vs_cp.sh [MODEL.h5] [RUNS]
#   MODEL defaults to a keras.applications-topology VGG16 with top (553 MB, Keras 2 layout,
#   random weights) written by fixtures/keras/make_vgg16_keras.py into target/models/keras-vgg16.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-}"
runs="${2:-5}"
if [ -z "$model" ]; then
  model=target/models/keras-vgg16/vgg16.h5
  if [ ! -f "$model" ]; then
    mkdir -p "$(dirname "$model")"
    /usr/bin/python3 fixtures/keras/make_vgg16_keras.py "$model"
  fi
fi
OUT_EXT=.onnx exec bench/convert_vs_cp.sh "$model" "$runs"
