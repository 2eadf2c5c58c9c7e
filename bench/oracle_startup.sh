#!/usr/bin/env bash
# Start-up cost of the oracle part on a command that does not use it: `graft inspect` with the launcher's
# class path (graft jar only) and with the oracle jar + target/oracle-lib/* appended, same run, medians of N.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"; n="${N:-11}"; model="${1:-$here/fixtures/onnx/small_vgg.onnx}"
"$here/graft" --version >/dev/null
jar="$here/target/graft-0.1.0.jar"; ocp="$here/target/graft-0.1.0-oracles.jar:$here/target/oracle-lib/*"
run() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=(); b=()
for i in $(seq "$n"); do
  a+=("$(run java -XX:+UseSerialGC -cp "$jar" graft.cli.Main inspect "$model")")
  b+=("$(run java -XX:+UseSerialGC -cp "$jar:$ocp" graft.cli.Main inspect "$model")")
done
echo "graft inspect, median of $n: without oracle jars $(printf '%s\n' "${a[@]}" | median) ms, with $(printf '%s\n' "${b[@]}" | median) ms"
