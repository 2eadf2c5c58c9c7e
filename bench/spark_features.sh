#!/usr/bin/env bash
# Features throughput on Spark (issue 19): images/s of `graft features` over the same image folder
# (default: 2,000 Fashion-MNIST test images as PNG class folders, the transfer study's source model
# cut after block2's pool), in one run of this script:
#   single machine   ./graft features (no Spark)
#   local[1]         ./graft features --spark --master local[1]
#   local[2]         ./graft features --spark --master local[2]
#   standalone       a Master and 2 Workers (1 core each) on 127.0.0.1, --master spark://...
# each REPEAT times (default 3), the median wall time of the whole command (JVM and Spark start
# included) reported, then the per-image cost split on this machine (CostSplit: decode,
# preprocess, ONNX Runtime, write). Every Spark output is checked equal to the single-machine one.
#
# Usage: bench/spark_features.sh [REPEAT]     (needs: mvn -B -DskipTests package; Debian dataset-fashion-mnist)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
repeat="${1:-3}"
work="$here/target/spark-bench"
model="${SPARK_BENCH_MODEL:-$here/target/fixtures/train/fashion_source.onnx}"
layer="/block2/block2.4/MaxPool"
[ -f spark/target/graft-spark-0.1.0.jar ] || { echo "spark_features.sh: build first: mvn -B -DskipTests package" >&2; exit 5; }
[ -f "$model" ] || { echo "spark_features.sh: $model missing: make it with fixtures/train/fashion_source.py (or set SPARK_BENCH_MODEL)" >&2; exit 3; }
rm -rf "$work" && mkdir -p "$work"
# 2,000 PNGs, 200 of each class, written by numpy/PIL-free Python (zlib) from the IDX files
/usr/bin/python3 - "$work/pngs" <<'PY'
import gzip, os, struct, sys, zlib
out = sys.argv[1]
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
lab = gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
def png(px):
    rows = b"".join(b"\0" + px[r * 28:(r + 1) * 28] for r in range(28))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
taken = [0] * 10
for i in range(len(lab)):
    c = lab[i]
    if taken[c] >= 200:
        continue
    taken[c] += 1
    d = os.path.join(out, "class%d" % c)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "%05d.png" % i), "wb").write(png(raw[i * 784:(i + 1) * 784]))
PY
n=$(find "$work/pngs" -name '*.png' | wc -l)
./graft --version >/dev/null   # builds the core if needed, outside the timings

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
run() { # NAME OUT ARGS...: times the command REPEAT times, prints images/s of the median
  local name=$1 out=$2; shift 2
  local times=()
  for _ in $(seq "$repeat"); do
    rm -rf "$out" "${out%.npy}.labels.npy"
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  local m
  m=$(printf '%s\n' "${times[@]}" | median)
  printf '%-16s %6.2f s  %7.0f images/s   (runs: %s)\n' "$name" "$m" "$(echo "$n / $m" | bc -l)" "${times[*]}"
}
same() { cmp -s "$1" "$work/single.npy" || { echo "spark_features.sh: $1 differs from the single-machine features" >&2; exit 1; }; }

echo "features of $n images up to '$layer' of $(basename "$model"), $(nproc) cores, median of $repeat"
run "single machine" "$work/single.npy" ./graft features "$model" "$work/pngs" --upto "$layer" --scale 1/255 -o "$work/single.npy" --quiet
for m in "local[1]" "local[2]"; do
  run "--spark $m" "$work/spark.npy" ./graft features "$model" "$work/pngs" --upto "$layer" --scale 1/255 -o "$work/spark.npy" --spark --master "$m"
  same "$work/spark.npy"
done
# the 2-worker standalone cluster: bench/spark_cluster.sh's daemons, kept up across the repeats
cluster_log="$work/cluster.out"
( bench/spark_cluster.sh 2>"$cluster_log" & echo $! >"$work/cluster.pid"; wait ) &
for _ in $(seq 600); do grep -q "master spark://" "$cluster_log" 2>/dev/null && break; sleep 0.5; done
url=$(grep -o "spark://127.0.0.1:[0-9]*" "$cluster_log" | head -1)
[ -n "$url" ] || { echo "spark_features.sh: the cluster did not start, see $cluster_log" >&2; exit 5; }
GRAFT_JAVA_OPTS="-Dspark.driver.host=127.0.0.1" run "standalone 2x1" "$work/cluster.npy" ./graft features "$model" "$work/pngs" --upto "$layer" --scale 1/255 \
  -o "$work/cluster.npy" --spark --master "$url"
same "$work/cluster.npy"
kill "$(cat "$work/cluster.pid")" 2>/dev/null || true
wait 2>/dev/null || true
java -cp "spark/target/test-classes:spark/target/graft-spark-0.1.0.jar:spark/target/lib/*" graft.spark.CostSplit "$model" "$work/pngs" "$layer"
