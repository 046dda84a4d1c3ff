#!/usr/bin/env bash
# The HTTP benchmark in one command: builds what it needs, then runs wrk against embedded Tomcat 11
# alone, against Tomcat's DeltaManager cluster (async and sync) and against the session-agent
# filter with two agents (async and sync), each at every connection count of CONNECTIONS (16 and
# 64 by default; fresh processes, warmup and measured run for each), checks every user's session on
# the second node and, for the filter, whether every write was replicated (writes against the deltas
# the second agent applied, agent errors, stream failures, unreplicated writes, replication lag
# p99), and writes bench/http/results/ (results.tsv, results.json, http-bench.png) and the results
# section of bench/http/README.md. The filter and the agents run at their defaults. Everything runs
# on 127.0.0.1; about 15 minutes (60 s of warmup per run: the JIT of four JVMs on two cores, see README).
#
#   bench/http/run.sh                       # the full run
#   DURATION=5 WARMUP=2 bench/http/run.sh   # shorter
#   CONNECTIONS=64 bench/http/run.sh        # one connection count (a comma-separated list: 8,16,64)
#   CONFIGS=delta-async,ours-async bench/http/run.sh
#   PROFILE=ours-sync bench/http/run.sh     # also a JFR recording of that configuration's node 1 and agent 1
#   OUT_DIR=/tmp/http-bench bench/http/run.sh   # a trial: results there, README and results/ untouched
#
# Maven options go in MAVEN_ARGS, which Maven (3.9+) adds to every command line, e.g.
#   MAVEN_ARGS="-o -Dmaven.repo.local=$HOME/m2-other" bench/http/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk"
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends wrk
  fi
fi

./mvnw -B -q -pl bench/http -am package -DskipTests

# The command line as the README quotes it: the settings that differ from the defaults, then the script.
command="bench/http/run.sh"
for v in DURATION WARMUP SETTLE CONNECTIONS THREADS CONFIGS PROFILE; do
  if [ -n "${!v:-}" ]; then command="$v=${!v} $command"; fi
done

args=(
  --agent-jar=agent/target/session-agent.jar
  --work-dir=bench/http/target/http-bench
  --out-dir="${OUT_DIR:-bench/http/results}"
  --duration="${DURATION:-20}"
  --warmup="${WARMUP:-60}"
  --settle="${SETTLE:-2}"
  --connections="${CONNECTIONS:-16,64}"
  --threads="${THREADS:-2}"
  --command="$command"
)
# A trial run elsewhere leaves the README's results section as the last full run wrote it.
if [ -z "${OUT_DIR:-}" ]; then args+=(--readme=bench/http/README.md); fi
if [ -n "${CONFIGS:-}" ]; then args+=(--configs="$CONFIGS"); fi
if [ -n "${PROFILE:-}" ]; then args+=(--profile="$PROFILE"); fi

cp="$PWD/bench/http/target/classes:$(cat bench/http/target/classpath.txt)"
exec java -Djava.awt.headless=true -cp "$cp" io.sessionagent.bench.http.harness.HttpBenchmark \
  --class-path="$cp" "${args[@]}"
