#!/usr/bin/env bash
# A Jazzer fuzz campaign on one of graft's entry points (issue 21): coverage-guided, in a 256 MB
# heap, 10 s per input at most, libFuzzer's dictionary of the format's keywords, seeded from
# fixtures/fuzz/TARGET/ (its seeds and every crash kept so far). Prints executions per second,
# total executions, coverage (edges) when the seeds are loaded and at the end, and the crashes.
# Each new crash, timeout or out-of-memory input is copied to fixtures/fuzz/TARGET/ so that the
# default test suite replays it (Jazzer's regression mode) once it is committed.
#
# Usage: bench/fuzz.sh TARGET MINUTES
#   TARGET: onnx onnx-external h5 keras-zip prototxt caffemodel recipe npy roundtrip
#   FUZZ_NICE (default 10), FUZZ_KEEP_GOING (distinct findings before stopping, default 20)
#   The corpus the campaign grows stays in target/fuzz/TARGET/corpus (not committed).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
target="${1:?usage: bench/fuzz.sh TARGET MINUTES}"
minutes="${2:?usage: bench/fuzz.sh TARGET MINUTES}"
case "$target" in
  onnx) cls=OnnxReaderFuzzTest ;;
  onnx-external) cls=OnnxExternalFuzzTest ;;
  h5) cls=KerasH5FuzzTest ;;
  keras-zip) cls=KerasZipFuzzTest ;;
  prototxt) cls=CaffeTextFuzzTest ;;
  caffemodel) cls=CaffeBinaryFuzzTest ;;
  recipe) cls=RecipeFuzzTest ;;
  npy) cls=NpyFuzzTest ;;
  roundtrip) cls=RoundTripFuzzTest ;;
  *) echo "fuzz.sh: unknown target '$target'" >&2; exit 2 ;;
esac
seconds=$(( ${minutes%.*} * 60 ))
[ "$seconds" -gt 0 ] || { echo "fuzz.sh: MINUTES must be a whole number >= 1" >&2; exit 2; }
work="target/fuzz/$target"
mkdir -p "$work/corpus" "$work/artifacts" "$work/seen"
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  mvn -o -q -B -Dstyle.color=never -Dgraft.oracles.skip=true -pl core test-compile
fi
# the core module's class path (core/pom.xml; its output is the root's target/)
if [ ! -s target/fuzz/cp.txt ] || [ pom.xml -nt target/fuzz/cp.txt ] || [ core/pom.xml -nt target/fuzz/cp.txt ]; then
  mvn -o -q -B -Dstyle.color=never -pl core dependency:build-classpath -Dmdep.outputFile="$here/target/fuzz/cp.txt" -Dmdep.includeScope=test >/dev/null
fi
# Numeric kernels (the reference executor, ConvMath's least-squares fit) are not instrumented: they parse
# nothing, and coverage hooks on every loop comparison made a calibrated --init fit run past libFuzzer's
# 10 s timeout (recipe run 32: 975 ms in a plain JVM).
# a snapshot of the classes: a build during the campaign does not change what it runs
rm -rf "$work/classes" && mkdir -p "$work/classes" && cp -r target/classes "$work/classes/main" && cp -r target/test-classes "$work/classes/test"
cp="$work/classes/test:$work/classes/main:$(cat target/fuzz/cp.txt)"
log="$work/campaign-$(date -u +%Y%m%dT%H%M%SZ).log"
started=$(date +%s)
set +e
nice -n "${FUZZ_NICE:-10}" java -Xmx256m -XX:+UseSerialGC -Dgraft.root="$here" -Dgraft.fuzz.class="$cls" -Dgraft.fuzz.target="$target" \
  -cp "$cp" com.code_intelligence.jazzer.Jazzer --target_class=graft.fuzz.Standalone \
  --instrumentation_includes='graft.**:io.jhdf.**:com.google.protobuf.**:com.fasterxml.jackson.**' \
  --instrumentation_excludes='graft.exec.**:graft.surgery.ConvMath' --custom_hook_excludes='graft.fuzz.**' \
  --keep_going="${FUZZ_KEEP_GOING:-20}" --reproducer_path="$work/artifacts" \
  "$work/corpus" "fixtures/fuzz/$target" \
  -dict="fixtures/fuzz/dict/$target.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 >"$log" 2>&1
rc=$?
set -e
inited=$(grep -m1 -o 'INITED cov: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
last=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
# with --keep_going libFuzzer prints its final stats after each finding; the counts are cumulative
execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
[ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
ran=$(( $(date +%s) - started ))
rate="?"
# per second of fuzzing (max_total_time; the warm-up and JVM start are in wall_s only)
if [ -n "$execs" ]; then rate=$(( execs / seconds )); fi
new=()
for f in "$work"/artifacts/crash-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
  [ -f "$f" ] || continue
  base=$(basename "$f")
  mv "$f" "$work/seen/$base"
  f="$work/seen/$base"
  if [[ "$base" == timeout-* ]] && java -Xmx256m -Dgraft.root="$here" -Dgraft.fuzz.class="$cls" -Dgraft.fuzz.target="$target" \
      -cp "$cp" graft.fuzz.Standalone "$f" >>"$log" 2>&1; then
    # not reproduced without instrumentation: the JVM was loading and instrumenting classes
    echo "  $base: timeout not reproduced in a plain JVM (class loading under instrumentation); not kept"
    continue
  fi
  if [ ! -f "fixtures/fuzz/$target/$base" ]; then
    cp "$f" "fixtures/fuzz/$target/$base"
    new+=("$base")
  fi
done
summary="target=$target minutes=$minutes wall_s=$ran exec/s=$rate execs=$execs edges_start=$inited edges_end=$last jazzer_rc=$rc new_findings=${#new[@]}"
echo "$summary"
for b in "${new[@]}"; do echo "  kept fixtures/fuzz/$target/$b"; done
grep -E '^== Java Exception|^== libFuzzer crashing input|^==[0-9]+== ERROR|Caused by|^\s+at graft\.' "$log" | head -40 || true
echo "log: $log"
