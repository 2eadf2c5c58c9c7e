#!/usr/bin/env bash
# A Spark standalone cluster on this machine by hand (issue 19): a Master and WORKERS Workers (1 core,
# 1 GB each) as separate JVMs on 127.0.0.1 from graft's Spark module (spark/target/lib), then
#   ./graft features MODEL DATA --upto LAYER -o OUT --spark --master spark://127.0.0.1:PORT
# and the cluster stopped again (also on Ctrl-C or failure). Daemon logs: target/spark-cluster/.
#
# Usage: bench/spark_cluster.sh MODEL DATA LAYER OUT [WORKERS]      (build first: mvn -B -DskipTests package)
#   Without arguments: starts the cluster, prints its URL and waits (Ctrl-C stops it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
workers="${5:-2}"
[ -f spark/target/graft-spark-0.1.0.jar ] || { echo "spark_cluster.sh: build graft's Spark module first: mvn -B -DskipTests package" >&2; exit 5; }
dir="$here/target/spark-cluster"
rm -rf "$dir" && mkdir -p "$dir/spark-home/jars"
cat > "$dir/log4j2.properties" <<'LOG'
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
LOG
cp="$here/spark/target/graft-spark-0.1.0.jar:$here/spark/target/lib/*"
opens=(-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
       --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
       --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
       --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED
       --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
       --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Spark's launcher wants SPARK_HOME/jars (empty here: executors get graft's class path from graft itself) and a Scala version
export SPARK_HOME="$dir/spark-home" SPARK_SCALA_VERSION=2.13 SPARK_LOCAL_IP=127.0.0.1
pids=()
stop() { for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
trap "exit 130" INT TERM
daemon() { local name=$1; shift; java -Xmx512m "${opens[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" "$@" >"$dir/$name.log" 2>&1 & pids+=($!); }
waitfor() { for _ in $(seq 600); do grep -q "$2" "$dir/$1.log" 2>/dev/null && return 0; sleep 0.2; done; echo "spark_cluster.sh: $1 did not start, see $dir/$1.log" >&2; exit 5; }
daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" --webui-port 0
waitfor master "I have been elected leader"
for i in $(seq 0 $((workers - 1))); do
  daemon "worker$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores 1 --memory 1g --webui-port 0 --work-dir "$dir/work$i" "spark://127.0.0.1:$port"
done
for i in $(seq 0 $((workers - 1))); do waitfor "worker$i" "Successfully registered with master"; done
echo "spark_cluster.sh: master spark://127.0.0.1:$port, $workers workers (pids ${pids[*]})" >&2
if [ $# -lt 4 ]; then
  echo "spark_cluster.sh: Ctrl-C stops the cluster" >&2
  wait
fi
GRAFT_JAVA_OPTS="-Dspark.driver.host=127.0.0.1 ${GRAFT_JAVA_OPTS:-}" ./graft features "$1" "$2" --upto "$3" -o "$4" --spark --master "spark://127.0.0.1:$port" "${@:6}"
