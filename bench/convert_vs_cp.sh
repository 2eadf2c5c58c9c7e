#!/usr/bin/env bash
# Whole-process benchmark: `graft convert MODEL out.onnx` against `cp MODEL` of the same file.
# Reports the median wall time of each over N runs, their ratio, and graft's peak RSS against
# the model's size. Targets (issue 2): ratio <= 3, peak RSS <= 1.5 x model size.
#
# Usage: bench/convert_vs_cp.sh [MODEL] [RUNS]
#   MODEL defaults to a generated torchvision VGG16 (528 MB, fixtures/onnx/make_vgg16.py).
#   OUT_EXT=.onnx by default; set OUT_EXT=.h5 / .caffemodel for other targets.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-}"
runs="${2:-5}"
ext="${OUT_EXT:-.onnx}"
if [ -z "$model" ]; then
  model=target/models/vgg16/vgg16.onnx
  [ -f "$model" ] || /usr/bin/python3 fixtures/onnx/make_vgg16.py target/models/vgg16 >/dev/null
fi
./graft --version >/dev/null   # build and create the class-data archive outside the timings
work="$(mktemp -d "${TMPDIR:-/tmp}/graft-bench.XXXX")"
trap 'rm -rf "$work"' EXIT
size=$(stat -c %s "$model")
cat "$model" >/dev/null        # both start from a warm page cache
cp_times=(); graft_times=(); graft_rss=(); cold_times=()
for i in $(seq "$runs"); do
  rm -f "$work/cp.bin" "$work/out$ext" "$work/out$ext.data"
  t=$( { /usr/bin/time -f "%e %M" cp "$model" "$work/cp.bin"; } 2>&1 | tail -1)
  cp_times+=("${t% *}")
  t=$( { /usr/bin/time -f "%e %M" ./graft convert "$model" "$work/out$ext" >/dev/null; } 2>&1 | tail -1)
  graft_times+=("${t% *}"); graft_rss+=("${t#* }")
  # the same with the source hash computed afresh (first conversion of a file)
  rm -f "$work/out$ext" "$work/out$ext.data"
  t=$( { GRAFT_HASH_CACHE=0 /usr/bin/time -f "%e %M" ./graft convert "$model" "$work/out$ext" >/dev/null; } 2>&1 | tail -1)
  cold_times+=("${t% *}"); graft_rss+=("${t#* }")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mc=$(median "${cp_times[@]}"); mg=$(median "${graft_times[@]}"); mk=$(median "${cold_times[@]}"); peak=$(printf '%s\n' "${graft_rss[@]}" | sort -g | tail -1)
awk -v mc="$mc" -v mg="$mg" -v mk="$mk" -v peak="$peak" -v size="$size" -v runs="$runs" -v model="$model" -v ext="$ext" 'BEGIN {
  printf "model            %s (%.1f MB) -> %s, %d runs, %s\n", model, size/1048576, ext, runs, strftime("%Y-%m-%d");
  printf "cp median        %.3f s\n", mc;
  printf "graft median     %.3f s   (ratio %.2fx cp; target <= 3x; source hash from the stat cache)\n", mg, mg/mc;
  printf "graft, hashing   %.3f s   (ratio %.2fx cp; GRAFT_HASH_CACHE=0: SHA-256 of the source on the second core)\n", mk, mk/mc;
  printf "graft peak RSS   %.1f MB  (%.2fx model size; target <= 1.5x)\n", peak/1024, peak*1024/size;
}'
# Where the time goes: GRAFT_TIMING=1 marks (graft.io.Timing), median ms after the launch over 3 runs.
echo "phases (ms after launch, median of 3; GRAFT_TIMING=1):"
for i in 1 2 3; do
  rm -f "$work/out$ext" "$work/out$ext.data"
  t0=$(date +%s%3N)
  GRAFT_TIMING=1 ./graft convert "$model" "$work/out$ext" 2>"$work/timing.txt" >/dev/null
  t1=$(date +%s%3N)
  awk -v t0="$t0" '/^graft-timing/ {k++; printf "%02d\t%s\t%d\n", k, substr($0, index($0, $3)), $2 - t0}' "$work/timing.txt"
  printf '99\tprocess ended\t%d\n' $((t1 - t0))
done | sort -t$'\t' -k1,1n -s | awk -F'\t' '{v[$1] = v[$1] " " $3; n[$1] = $2} END {for (k in v) print k "\t" n[k] "\t" v[k]}' | sort -n |
  while IFS=$'\t' read -r k name vals; do
    printf '  %6d  %s\n' "$(printf '%s\n' $vals | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$name"
  done
# the machine's load during the runs: on a shared machine the medians mean little without it
echo "load average     $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
