#!/usr/bin/env bash
# Issue #16: `graft convert` of the full-size keras.applications ResNet50 Keras 2 `.h5`
# (fixtures/keras/make_applications.py from resnet50.json, seed 0, ~100 MB, 25.6 M parameters,
# written once into target/models/keras-applications/, the file the slow suite uses) to ONNX,
# against bench/jvm_floor.sh's floor: `java CopyFile` of the same `.h5` (a JVM with ./graft's
# flags and a class-data archive of its own that only copies the file by transferTo). Runs are
# interleaved (graft, CopyFile, cp), median of RUNS each, then GRAFT_TIMING=1 phases (median of 3).
# Also, in the same run: `./graft --version` (what any graft command costs before it reads a
# model) and the same conversion repeated in one warm JVM (bench/floor/WarmConvert.java: the
# conversion's own work), each against the floor: the two lower bounds of a fresh graft process.
# Target: graft <= 2.5x the floor. Correctness of the same conversion is checked by the slow test
# KerasApplicationsTest#fullModelMatchesTensorFlowJsOnLogits[resnet50] (ONNX Runtime vs TensorFlow.js).
#
# Usage: bench/resnet50_h5_vs_floor.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
runs="${1:-5}"
model=target/models/keras-applications/resnet50.h5
if [ ! -f "$model" ]; then
  mkdir -p "$(dirname "$model")"
  /usr/bin/python3 fixtures/keras/make_applications.py h5 fixtures/keras/applications/resnet50.json "$model" --seed 0
fi
./graft --version >/dev/null   # build and make graft's class-data archive outside the timings
cls="$here/target/bench-floor"
mkdir -p "$cls"
javac --release 17 -d "$cls" bench/floor/Hello.java bench/floor/CopyFile.java
jar cf "$cls/floor.jar" -C "$cls" Hello.class -C "$cls" CopyFile.class
work="$(mktemp -d "${TMPDIR:-/tmp}/graft-r50.XXXX")"
trap 'rm -rf "$work"' EXIT
jvm=(-XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -Xlog:disable -Xlog:all=error:stderr
     -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0)
java "${jvm[@]}" -XX:ArchiveClassesAtExit="$work/floor.jsa" -cp "$cls/floor.jar" CopyFile "$model" "$work/warm.bin" >/dev/null 2>&1
jvm+=(-XX:SharedArchiveFile="$work/floor.jsa")
rm -f "$work/warm.bin"
./graft convert "$model" "$work/warm.onnx" >/dev/null   # warm-up (and the source hash into the stat cache)
rm -f "$work/warm.onnx"
cat "$model" >/dev/null
sec() { local s=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $s" | bc; }
t_g=(); t_f=(); t_cp=(); t_v=(); loads=()
for i in $(seq "$runs"); do
  rm -f "$work/out.onnx" "$work/copy.bin" "$work/cp.bin"
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  t_g+=("$(sec ./graft convert "$model" "$work/out.onnx")")
  t_f+=("$(sec java "${jvm[@]}" -cp "$cls/floor.jar" CopyFile "$model" "$work/copy.bin")")
  t_cp+=("$(sec cp "$model" "$work/cp.bin")")
  t_v+=("$(sec ./graft --version)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mg=$(median "${t_g[@]}"); mf=$(median "${t_f[@]}"); mc=$(median "${t_cp[@]}")
printf 'model            %s (%.1f MB) -> .onnx (%.1f MB), %d runs interleaved, %s\n' "$model" \
  "$(echo "$(stat -c %s "$model") / 1048576" | bc -l)" "$(echo "$(stat -c %s "$work/out.onnx") / 1048576" | bc -l)" "$runs" "$(date -u +%FT%TZ)"
printf 'graft convert    %.3f s   (runs: %s)\n' "$mg" "$(printf '%.2f ' "${t_g[@]}")"
printf 'java CopyFile    %.3f s   (runs: %s)\n' "$mf" "$(printf '%.2f ' "${t_f[@]}")"
printf 'cp               %.3f s\n' "$mc"
printf 'ratio            %.2fx the floor (target <= 2.5x); %.2fx cp\n' "$(echo "$mg / $mf" | bc -l)" "$(echo "$mg / $mc" | bc -l)"
mv=$(median "${t_v[@]}")
printf 'graft --version  %.3f s   %.2fx the floor (the launcher, a JVM with graft'"'"'s archive, Picocli; no model)\n' "$mv" "$(echo "$mv / $mf" | bc -l)"
# the conversion alone, in one warm JVM (bench/floor/WarmConvert.java): no start, no interpretation
javac --release 17 -cp target/graft-0.1.0.jar -d "$cls" bench/floor/WarmConvert.java
warm=$(java -XX:+UseSerialGC -cp "$cls:target/graft-0.1.0.jar:target/lib/*" WarmConvert 16 "$model" "$work/warm.onnx")
wm=$(echo "$warm" | sed -n 's/.*median of the last [0-9]*: \([0-9]*\) ms/\1/p')
printf 'warm conversion  %.3f s   %.2fx the floor (%s)\n' "$(echo "$wm / 1000" | bc -l)" "$(echo "$wm / 1000 / $mf" | bc -l)" "$warm"
echo "phases (ms after launch, median of 3; GRAFT_TIMING=1):"
for i in 1 2 3; do
  rm -f "$work/out.onnx"
  t0=$(date +%s%3N)
  GRAFT_TIMING=1 ./graft convert "$model" "$work/out.onnx" 2>"$work/timing.txt" >/dev/null
  t1=$(date +%s%3N)
  awk -v t0="$t0" '/^graft-timing/ {k++; printf "%02d\t%s\t%d\n", k, substr($0, index($0, $3)), $2 - t0}' "$work/timing.txt"
  printf '99\tprocess ended\t%d\n' $((t1 - t0))
done | sort -t$'\t' -k1,1n -s | awk -F'\t' '{v[$1] = v[$1] " " $3; n[$1] = $2} END {for (k in v) print k "\t" n[k] "\t" v[k]}' | sort -n |
  while IFS=$'\t' read -r k name vals; do
    printf '  %6d  %s\n' "$(printf '%s\n' $vals | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$name"
  done
echo "load average     at each run: ${loads[*]}; now $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
