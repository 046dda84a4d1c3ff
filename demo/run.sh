#!/usr/bin/env bash
# A two-node cluster on this machine, and a failover to watch: a user's session is written
# through agent A, agent A is killed with SIGKILL, and agent B serves the session on.
#
#   ./demo/run.sh           run the scenario, then stop everything
#   ./demo/run.sh --keep    leave the surviving agent running afterwards (stop it with Ctrl-C)
#
# Everything stays on the loopback interface. Ports and group can be moved with
# DEMO_GRPC_A, DEMO_GRPC_B, DEMO_PEER_A, DEMO_PEER_B, DEMO_METRICS_A, DEMO_METRICS_B, DEMO_GROUP, DEMO_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
[ "${1:-}" = "--keep" ] && keep=true

jar=agent/target/session-agent.jar
if [ ! -f "$jar" ]; then
  echo "== building the agent (first run only)"
  ./mvnw -q -B -DskipTests package -pl agent -am
fi

grpc_a=${DEMO_GRPC_A:-7400}; peer_a=${DEMO_PEER_A:-7401}
grpc_b=${DEMO_GRPC_B:-7410}; peer_b=${DEMO_PEER_B:-7411}
metrics_a=${DEMO_METRICS_A:-7402}; metrics_b=${DEMO_METRICS_B:-7412}
group=${DEMO_GROUP:-239.255.27.1}; port=${DEMO_PORT:-45588}
run=demo/run; mkdir -p "$run"
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

start_agent() { # name grpc peer metrics
  java -Xmx256m -jar "$jar" --cluster-name=demo --node-name="$1" \
    --multicast-group="$group" --multicast-port="$port" --multicast-interface=lo --multicast-ttl=0 \
    --grpc-port="$2" --peer-address=127.0.0.1 --peer-port="$3" --metrics-port="$4" >"$run/$1.log" 2>&1 &
  pids+=($!)
  echo "   $1: pid $!, SessionService 127.0.0.1:$2, metrics http://127.0.0.1:$4/metrics, log $run/$1.log"
}

cli() { java -jar "$jar" "$@"; }

await_ready() { # grpc
  for _ in $(seq 1 100); do
    if cli view --grpc "127.0.0.1:$1" --json --timeout 1s 2>/dev/null | grep -q '"state": "MEMBER_STATE_READY"'; then
      return 0
    fi
    sleep 0.2
  done
  echo "agent on port $1 did not become ready; its log:" >&2
  tail -20 "$run"/*.log >&2
  exit 1
}

echo "== starting two agents on the loopback interface (group $group:$port)"
start_agent node-a "$grpc_a" "$peer_a" "$metrics_a"
start_agent node-b "$grpc_b" "$peer_b" "$metrics_b"
await_ready "$grpc_a"
await_ready "$grpc_b"
cli view --grpc "127.0.0.1:$grpc_a"

session=demoUser$(date +%s)
echo
echo "== a user's requests land on node-a; each one updates their session"
for n in 1 2 3 4 5; do
  cli put "$session" "counter=$n" "cart=${n} items" --sync --grpc "127.0.0.1:$grpc_a"
done
echo
echo "== the replica on node-b"
cli get "$session" --grpc "127.0.0.1:$grpc_b"

echo
echo "== kill -9 node-a (pid ${pids[0]}): no leave, no goodbye"
kill -9 "${pids[0]}"
start=$(date +%s%N)
for _ in $(seq 1 50); do
  members=$(cli view --grpc "127.0.0.1:$grpc_b" --json | grep -c '"node_name": "node-a"' || true)
  [ "$members" = "0" ] && break
  sleep 0.2
done
echo "   node-b dropped node-a from its view after $(( ($(date +%s%N) - start) / 1000000 )) ms"
cli view --grpc "127.0.0.1:$grpc_b"

echo
echo "== the user's next request fails over to node-b, which still holds the session"
cli get "$session" --grpc "127.0.0.1:$grpc_b" | tee "$run/failover.txt"
grep -q "counter = 5" "$run/failover.txt"
cli put "$session" "counter=6" --grpc "127.0.0.1:$grpc_b"
echo
echo "== the session survived the failure of node-a: counter went on from 5 to 6 on node-b"

if $keep; then
  echo
  echo "node-b keeps running (pid ${pids[1]}). Try:"
  echo "   java -jar $jar view --grpc 127.0.0.1:$grpc_b"
  echo "   java -jar $jar get $session --grpc 127.0.0.1:$grpc_b"
  echo "Ctrl-C stops it."
  wait "${pids[1]}"
fi
