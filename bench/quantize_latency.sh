#!/usr/bin/env bash
# ONNX Runtime CPU latency of full-size VGG16 and ResNet50 (224x224), float32 against
# `graft quantize` INT8 (QDQ) and `graft convert --fp16`, batch 1 and 8, all in one JVM and one run
# (graft.deploy.QuantizeLatencyBench: graft's own session options, 2 warm-up runs, median of RUNS).
# Issue 17's goal: INT8 at most 0.5x FP32's time. Prints a markdown table (ms, ratio, file sizes),
# then the op counts of ONNX Runtime's optimized INT8 graphs (are QLinearConv/QLinearMatMul made?).
#   VGG16:    torchvision vgg16 (fixtures/onnx/make_vgg16.py, seeded random weights, opset 13)
#   ResNet50: torchvision resnet50 with 10 classes (fixtures/onnx/make_torchvision.py, seeded random weights)
# Both generated into target/ (never git). Calibration: 32 seeded standard-normal inputs
# (fixtures/deploy/qdq_oracle.py calib), not images: the weights are random anyway.
# Usage: bench/quantize_latency.sh [RUNS]   (default 5; QUANTIZE_ARGS adds graft quantize options;
#   BENCH_PREPACK=true adds FP32 and INT8 rows with ONNX Runtime's default session options, pre-packing on)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
runs="${1:-5}"
./graft --version >/dev/null   # build outside the timings
work="$here/target/bench-quantize"
mkdir -p "$work"
[ -f target/models/vgg16/vgg16.onnx ] || /usr/bin/python3 fixtures/onnx/make_vgg16.py target/models/vgg16
/usr/bin/python3 fixtures/onnx/make_torchvision.py target/torchvision resnet50:224 >/dev/null
[ -f "$work/calib224.npy" ] || /usr/bin/python3 fixtures/deploy/qdq_oracle.py calib "$work/calib224.npy" 32 3 224 224 1
declare -A src=([vgg16]=target/models/vgg16/vgg16.onnx [resnet50]=target/torchvision/resnet50.onnx)
specs=()
for m in vgg16 resnet50; do
  ./graft quantize "${src[$m]}" "$work/${m}_int8.onnx" --calibration "$work/calib224.npy" --samples 0 --quiet --force ${QUANTIZE_ARGS:-} | sed -n 1,2p >&2
  ./graft convert "${src[$m]}" "$work/${m}_fp16.onnx" --fp16 --force --quiet >&2
  specs+=("$m=${src[$m]},$work/${m}_int8.onnx,$work/${m}_fp16.onnx")
done
mvn -o -q -B -Dstyle.color=never -Dgraft.oracles.skip=true -pl core test-compile dependency:build-classpath \
    -Dmdep.outputFile="$here/target/bench-classpath.txt" >/dev/null
java -Xmx6g -Dbench.optimized="$work" -Dbench.prepack="${BENCH_PREPACK:-false}" -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
    graft.deploy.QuantizeLatencyBench "$runs" 1,8 "${specs[@]}"
for m in vgg16 resnet50; do
  /usr/bin/python3 -c '
import collections, sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
c = collections.Counter(n.op_type for n in m.graph.node)
print(sys.argv[2], "INT8 after ONNX Runtime optimization:", ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
' "$work/${m}_int8_optimized.onnx" "$m"
done
