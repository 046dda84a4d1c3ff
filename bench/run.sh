#!/usr/bin/env bash
# The benchmarks, one command each (see bench/README.md).
#   bench/run.sh                 cluster harness, full (about 2 minutes): writes bench/results/ and the README table
#   bench/run.sh --quick         cluster harness, quick smoke run: writes bench/results/quick/, README untouched
#   bench/run.sh jmh [ARGS...]   JMH benchmarks of the hot paths: bench/results/jmh.json (ARGS go to JMH, e.g. a regex)
# SKIP_BUILD=1 reuses bench/agent-bench/target/benchmarks.jar; JAVA_OPTS adds JVM flags (e.g. a JFR recording).
set -euo pipefail
cd "$(dirname "$0")/.."
jar=bench/agent-bench/target/benchmarks.jar
if [[ "${SKIP_BUILD:-0}" != 1 || ! -f "$jar" ]]; then
  ./mvnw -B -q -pl bench/agent-bench -am package -DskipTests -DskipITs
fi
mkdir -p bench/results
case "${1:-}" in
  jmh)
    shift
    exec java ${JAVA_OPTS:-} -jar "$jar" -rf json -rff bench/results/jmh.json "$@"
    ;;
  --quick)
    exec java -Djava.net.preferIPv4Stack=true -Xmx2g ${JAVA_OPTS:-} -cp "$jar" \
      io.sessionagent.bench.cluster.Harness --quick --out bench/results/quick --command "bench/run.sh --quick"
    ;;
  "")
    exec java -Djava.net.preferIPv4Stack=true -Xmx3g ${JAVA_OPTS:-} -cp "$jar" \
      io.sessionagent.bench.cluster.Harness --out bench/results --readme bench/README.md --command "bench/run.sh"
    ;;
  *)
    echo "usage: bench/run.sh [--quick | jmh [JMH ARGS...]]" >&2
    exit 2
    ;;
esac
