#!/usr/bin/env bash
# Layout time of `graft inspect --svg/--html` pictures (issue 23: under 2 s for an InceptionV3-sized DAG):
# ELK's layered layout of the layer graphs of Keras's InceptionV3 (313 layers), DenseNet121, ResNet50 and
# Xception (fixtures/keras/applications/*.json), first call in a fresh JVM and median of five more; wall time and the
# main thread's CPU time (what the same work costs on an idle core).
# Usage: bench/picture_layout.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
mvn -o -q -B -Dstyle.color=never -Dgraft.oracles.skip=true -pl core test-compile dependency:build-classpath \
    -Dmdep.outputFile="$here/target/bench-classpath.txt" >/dev/null
java -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" graft.picture.LayoutBench fixtures/keras/applications
