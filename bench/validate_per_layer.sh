#!/usr/bin/env bash
# Peak memory of `graft validate --per-layer` on a full-size VGG16 at 224x224 (issue 6): the
# per-layer walk runs one segment at a time, so its peak RSS should stay near that of a plain
# output comparison (model pages + a few activations), not grow by every layer's activation.
#
# Usage: bench/validate_per_layer.sh [DIR]
#   DIR holds vgg.onnx and vgg_fc1_permuted.onnx from fixtures/validate/make_vgg.py DIR 1 224
#   (generated under target/models/validate-vgg-w1-s224 when absent; 528 MB each).
# Prints, for each command, wall time and peak RSS (/usr/bin/time), and the sum of all layer
# activations that marking every layer as an output at once would hold.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
dir="${1:-target/models/validate-vgg-w1-s224}"
if [ ! -f "$dir/vgg_fc1_permuted.onnx" ]; then
  mkdir -p "$dir"
  /usr/bin/python3 fixtures/validate/make_vgg.py "$dir" 1 224 >/dev/null
fi
./graft --version >/dev/null   # build and create the class-data archive outside the measurements
a="$dir/vgg.onnx"; b="$dir/vgg_fc1_permuted.onnx"
size=$(stat -c %s "$a")
tf="$(mktemp "${TMPDIR:-/tmp}/graft-bench-time.XXXX")"
trap 'rm -f "$tf"' EXIT
measure() {
  local label="$1"; shift
  local t
  /usr/bin/time -o "$tf" -f "%e %M" "$@" >/dev/null 2>&1 || true
  t=$(tail -1 "$tf")
  printf "%-44s %7.1f s   peak RSS %7.1f MB\n" "$label" "${t% *}" "$(awk -v k="${t#* }" 'BEGIN{print k/1024}')"
}
echo "model $a ($(awk -v s="$size" 'BEGIN{printf "%.0f", s/1048576}') MB each), $(date -u +%Y-%m-%d), $(nproc) cores"
measure "graft run A (one forward, reference point)" ./graft run "$a"
measure "graft validate A B (outputs)" ./graft validate "$a" "$b"
measure "graft validate A B --per-layer" ./graft validate "$a" "$b" --per-layer
measure "graft validate A --per-layer (ORT vs ref)" ./graft validate "$a" --per-layer
# every layer's activation at once (batch 1, float32): what exposing all layers as outputs would hold per model
/usr/bin/python3 - <<'PY'
sizes = []
h, c = 224, 3
for n, w in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:
    sizes += [w * h * h] * (2 * n)   # conv and relu outputs
    h //= 2
    sizes.append(w * h * h)          # pool
sizes += [25088, 4096, 4096, 4096, 4096, 1000, 1000]
print("all %d layer activations of one model at once: %.1f MB; the largest one: %.1f MB"
      % (len(sizes), sum(sizes) * 4 / 2**20, max(sizes) * 4 / 2**20))
PY
