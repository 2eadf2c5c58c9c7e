#!/usr/bin/env bash
# Issue #16: ONNX Runtime CPU inference (Java, graft's own session options: OrtRunner.open) of
# graft's conversion against ONNX Runtime on torch's own export of the same network, same weights:
#   torchvision resnet50, mobilenet_v2, efficientnet_b0, densenet121, inception_v3, squeezenet1_1,
#   shufflenet_v2_x1_0, seeded random weights, 10 classes (fixtures/onnx/make_torchvision.py),
#   exported by torch.onnx.export (torch 1.13.1) at opset 17, 224x224 (inception_v3 299x299);
#   graft's file is `graft convert` of that export.
#   keras.applications ResNet50, MobileNetV2, InceptionV3, DenseNet121, Xception, EfficientNetB0,
#   full size (fixtures/keras/make_applications.py, seed 0): graft's `convert --opset 17` of the
#   `.h5`, timed alone: there is no fair peer here (no tf2onnx/TensorFlow exporter on this
#   machine; torchvision's twins are different networks), so no ratio.
# Batch 1, 3 warm-up runs each, then RUNS runs alternating graft / torch, medians. Per model:
# ms graft, ms torch's export, ratio (target <= 1.05x), the two outputs' max relative difference,
# the layout Transposes (Transpose nodes) in each file, and those left in graft's file after ONNX
# Runtime's own graph optimization (its optimized model written once, after the timings).
# Usage: bench/modern_inference_vs_torch.sh [RUNS]   (default 25; BENCH_MODELS limits the list)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
runs="${1:-25}"
./graft --version >/dev/null   # build outside the timings
work="$here/target/bench-modern-inference"
mkdir -p "$work"
torch_models="${BENCH_MODELS:-resnet50 mobilenet_v2 efficientnet_b0 densenet121 inception_v3 squeezenet1_1 shufflenet_v2_x1_0}"
keras_models="${BENCH_KERAS:-resnet50 mobilenetv2 inceptionv3 densenet121 xception efficientnetb0}"
specs=()
for m in $torch_models; do
  size=224; [ "$m" = inception_v3 ] && size=299
  /usr/bin/python3 fixtures/onnx/make_torchvision.py "$work/torch" "$m:$size:17" >&2
  ./graft convert "$work/torch/${m}_opset17.onnx" "$work/${m}_graft.onnx" --force --quiet >&2
  specs+=("$m=$work/${m}_graft.onnx,$work/torch/${m}_opset17.onnx")
done
for m in $keras_models; do
  h5="target/models/keras-applications/$m.h5"
  [ -f "$h5" ] || { mkdir -p "$(dirname "$h5")"; /usr/bin/python3 fixtures/keras/make_applications.py h5 "fixtures/keras/applications/$m.json" "$h5" --seed 0; }
  ./graft convert "$h5" "$work/keras_${m}_graft.onnx" --opset 17 --force --quiet >&2
  specs+=("keras_$m=$work/keras_${m}_graft.onnx")
done
javac --release 17 -cp "target/graft-0.1.0.jar" -d "$work/classes" bench/inference/InferenceBench.java
load0=$(cut -d' ' -f1-3 /proc/loadavg)
res=$(java -Xmx6g -Dbench.optimized="$work" -cp "$work/classes:target/graft-0.1.0.jar:target/lib/*" graft.bench.InferenceBench "$runs" "${specs[@]}")
load1=$(cut -d' ' -f1-3 /proc/loadavg)
transposes() { /usr/bin/python3 -c '
import sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
print(sum(1 for n in m.graph.node if n.op_type == "Transpose"), len(m.graph.node))' "$1"; }
# the same graph? (node types, edges, attributes and initializer bytes, in order)
same() { /usr/bin/python3 -c '
import sys, onnx
from onnx import numpy_helper as nh
def key(m):
    g = m.graph
    return ([(n.op_type, list(n.input), list(n.output), sorted((a.name, str(onnx.helper.get_attribute_value(a))) for a in n.attribute)) for n in g.node],
            [(i.name, nh.to_array(i).tobytes()) for i in g.initializer])
print("yes" if key(onnx.load(sys.argv[1])) == key(onnx.load(sys.argv[2])) else "no")' "$1" "$2"; }
echo "| model | graft ms | torch export ms | ratio (target <= 1.05x) | outputs differ by | same graph | Transposes graft / torch | graft's Transposes after ONNX Runtime's optimization | nodes graft / torch |"
echo "|---|---|---|---|---|---|---|---|---|"
while read -r name g t d; do
  if [ "$t" = "-" ]; then
    read -r tg ng <<<"$(transposes "$work/${name}_graft.onnx")"
    read -r to _ <<<"$(transposes "$work/${name}_graft_ort_optimized.onnx")"
    printf '| %s (.h5) | %s | no fair peer | - | - | - | %s / - | %s | %s / - |\n' "$name" "$g" "$tg" "$to" "$ng"
  else
    read -r tg ng <<<"$(transposes "$work/${name}_graft.onnx")"
    read -r tt nt <<<"$(transposes "$work/torch/${name}_opset17.onnx")"
    read -r to _ <<<"$(transposes "$work/${name}_graft_ort_optimized.onnx")"
    printf '| %s | %s | %s | %.3fx | %s | %s | %s / %s | %s | %s / %s |\n' "$name" "$g" "$t" "$(echo "$g / $t" | bc -l)" "$d" \
      "$(same "$work/${name}_graft.onnx" "$work/torch/${name}_opset17.onnx")" "$tg" "$tt" "$to" "$ng" "$nt"
  fi
done <<<"$res"
echo "(batch 1, 3 warm-up runs each, median of $runs alternating; $(date -u +%FT%TZ); load average before $load0, after $load1; $(nproc) cores)"
