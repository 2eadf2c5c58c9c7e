#!/usr/bin/env bash
# Whole-process benchmark for the Keras writers (issue 15): `graft convert vgg16.h5 out.EXT` for
# EXT = onnx, h5 (Keras 2) and keras (Keras 3 zip), alternating, median of RUNS each, and each
# Keras write's ratio to the ONNX write of the same model in the same run. Target: <= 2x.
# Every run reads the same .h5 (import time is common to all three), then writes its format.
#
# Usage: bench/keras_write_vs_onnx.sh [MODEL.h5] [RUNS]
#   MODEL defaults to the keras.applications-topology VGG16 with top (553 MB, random weights)
#   written by fixtures/keras/make_vgg16_keras.py into target/models/keras-vgg16.
#   GRAFT (default ./graft) is the command run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-}"
runs="${2:-5}"
graft="${GRAFT:-./graft}"
if [ -z "$model" ]; then
  model=target/models/keras-vgg16/vgg16.h5
  if [ ! -f "$model" ]; then
    mkdir -p "$(dirname "$model")"
    /usr/bin/python3 fixtures/keras/make_vgg16_keras.py "$model"
  fi
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
$graft convert --force "$model" "$out/warm.onnx" >/dev/null # builds the jar if needed
declare -A times
for i in $(seq "$runs"); do
  for ext in onnx h5 keras; do
    s=$(date +%s.%N)
    $graft convert --force "$model" "$out/model.$ext" >/dev/null
    e=$(date +%s.%N)
    times[$ext]+="$(echo "$e - $s" | bc) "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
o=$(echo "${times[onnx]}" | median)
printf '%s, %s runs each; sizes: onnx %s, h5 %s, keras %s bytes\n' "$model" "$runs" \
  "$(stat -c %s "$out/model.onnx")" "$(stat -c %s "$out/model.h5")" "$(stat -c %s "$out/model.keras")"
for ext in onnx h5 keras; do
  m=$(echo "${times[$ext]}" | median)
  printf '%-6s median %.3f s (runs: %s) ratio to onnx %.2fx\n' "$ext" "$m" "${times[$ext]% }" "$(echo "$m / $o" | bc -l)"
done
