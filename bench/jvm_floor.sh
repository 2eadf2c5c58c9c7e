#!/usr/bin/env bash
# The floor under the whole-process targets "graft convert <= 3x cp": what a JVM costs before
# it does any of graft's work. Times, as median of N runs over the same warm file:
#   cp MODEL                 the reference
#   bash -c true             a shell start (the ./graft launcher is a bash script)
#   java Hello               JVM start and exit, graft's launcher flags, a CDS archive of its own
#   java CopyFile MODEL OUT  the same JVM copying the whole file with FileChannel.transferTo
# and each as a multiple of cp. Whatever graft adds (command line, parsing, planning, layout
# transforms, metadata) has to fit between CopyFile's ratio and the target.
#
# Usage: bench/jvm_floor.sh [MODEL] [RUNS]   (MODEL defaults to the generated VGG16 ONNX)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
model="${1:-target/models/vgg16/vgg16.onnx}"
runs="${2:-9}"
[ -f "$model" ] || /usr/bin/python3 fixtures/onnx/make_vgg16.py target/models/vgg16 >/dev/null
cls="$here/target/bench-floor"
mkdir -p "$cls"
javac --release 17 -d "$cls" bench/floor/Hello.java bench/floor/CopyFile.java
jar cf "$cls/floor.jar" -C "$cls" Hello.class -C "$cls" CopyFile.class   # CDS archives jars only
work="$(mktemp -d "${TMPDIR:-/tmp}/graft-floor.XXXX")"
trap 'rm -rf "$work"' EXIT
# the launcher's JVM flags (./graft), with a class-data archive made for these two classes
jvm=(-XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -Xlog:disable -Xlog:all=error:stderr
     -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0)
java "${jvm[@]}" -XX:ArchiveClassesAtExit="$work/floor.jsa" -cp "$cls/floor.jar" CopyFile "$model" "$work/warm.bin" >/dev/null 2>&1
rm -f "$work/warm.bin"
jvm+=(-XX:SharedArchiveFile="$work/floor.jsa")
cat "$model" >/dev/null
t_cp=(); t_sh=(); t_hello=(); t_copy=()
sec() { local s=$EPOCHREALTIME; "$@" >/dev/null; echo "$EPOCHREALTIME - $s" | bc; }
for i in $(seq "$runs"); do
  rm -f "$work/cp.bin" "$work/copy.bin"; sync
  t_cp+=("$(sec cp "$model" "$work/cp.bin")")
  t_sh+=("$(sec bash -c true)")
  t_hello+=("$(sec java "${jvm[@]}" -cp "$cls/floor.jar" Hello)")
  t_copy+=("$(sec java "${jvm[@]}" -cp "$cls/floor.jar" CopyFile "$model" "$work/copy.bin")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mcp=$(median "${t_cp[@]}")
printf 'model             %s (%.1f MB), %d runs, %s, load %s\n' "$model" "$(echo "$(stat -c %s "$model") / 1048576" | bc -l)" "$runs" "$(date -u +%FT%TZ)" "$(cut -d' ' -f1 /proc/loadavg)"
for row in "cp:t_cp" "bash -c true:t_sh" "java Hello:t_hello" "java CopyFile:t_copy"; do
  name="${row%%:*}"; arr="${row#*:}[@]"
  m=$(median "${!arr}")
  printf '%-17s %.3f s   %.2fx cp\n' "$name" "$m" "$(echo "$m / $mcp" | bc -l)"
done
