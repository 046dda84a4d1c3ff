#!/usr/bin/env bash
# docs/operations.md's "Changing the topology", step by step on agents alone (no app servers): node1 and
# node2 hold sessions written with `put`; node3 is added and holds them all once `ready`; node1
# is drained and stopped; node2's replication is switched off and on while both sides write;
# node2 is stopped in order (SIGTERM); node4 is added. At the end every session ever written must
# be on node3 and node4 at its last version and value.
#
#   ./demo/topology.sh     run the sequence, stop everything; exit 0 only if no session was lost
#
# Needs Java 17. Every agent listens on 127.0.0.1 and multicasts on lo with TTL 0.
# Ports and group can be moved with DEMO_TOPO_GRPC1 (7510), DEMO_TOPO_PEER1 (7511),
# DEMO_TOPO_METRICS1 (7512), likewise DEMO_TOPO_*2 (7520..7522), DEMO_TOPO_*3 (7530..7532) and
# DEMO_TOPO_*4 (7540..7542), DEMO_TOPO_GROUP (239.255.27.2), DEMO_TOPO_PORT (45589);
# DEMO_TOPO_SESSIONS (20) is how many sessions are written at the start; logs go to demo/run/topology/
# (DEMO_TOPO_RUN).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
  echo "the demo needs Java 17 (a JDK)" >&2
  exit 1
fi
agent_jar=agent/target/session-agent.jar
if [ ! -f "$agent_jar" ]; then
  echo "== building the agent (first run only)"
  ./mvnw -q -B -DskipTests -pl agent -am package
fi

declare -A grpc peer metrics pid
for n in 1 2 3 4; do
  g="DEMO_TOPO_GRPC$n"; p="DEMO_TOPO_PEER$n"; m="DEMO_TOPO_METRICS$n"
  grpc[node$n]=${!g:-75${n}0}; peer[node$n]=${!p:-75${n}1}; metrics[node$n]=${!m:-75${n}2}
done
group=${DEMO_TOPO_GROUP:-239.255.27.2}; mport=${DEMO_TOPO_PORT:-45589}
sessions=${DEMO_TOPO_SESSIONS:-20}
run=${DEMO_TOPO_RUN:-$(pwd)/demo/run/topology}
mkdir -p "$run"; rm -f "$run"/agent-node?.log "$run"/put.* "$run"/get.* "$run"/members.*
pids=()

cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=false
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=true; done
    $alive || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 130' INT TERM

fail() {
  echo "== FAILED: $*" >&2
  tail -n 15 "$run"/*.log >&2 || true
  exit 1
}

# The CLI is a short-lived JVM per call; these flags make it start faster.
cli() { java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$agent_jar" "$@"; }
# The same, with the command shown the way an operator would type it.
show() { echo "   \$ session-agent $*"; cli "$@" 2>&1 | sed 's/^/     /'; }

start_agent() { # name
  local n=$1
  java -Xmx256m -jar "$agent_jar" --cluster-name=topology --node-name="$n" \
    --multicast-group="$group" --multicast-port="$mport" --multicast-interface=lo --multicast-ttl=0 \
    --grpc-port="${grpc[$n]}" --peer-address=127.0.0.1 --peer-port="${peer[$n]}" \
    --metrics-port="${metrics[$n]}" >"$run/agent-$n.log" 2>&1 &
  pid[$n]=$!; pids+=($!); disown $!
  echo "   agent $n: pid $!, SessionService 127.0.0.1:${grpc[$n]}, admin 127.0.0.1:${metrics[$n]}, log $run/agent-$n.log"
}

await_ready() { # name: `ready --admin` until it exits 0, at most 60 s
  local n=$1
  for _ in $(seq 1 120); do
    if cli ready --admin "127.0.0.1:${metrics[$n]}" >/dev/null 2>&1; then
      echo "   \$ session-agent ready --admin 127.0.0.1:${metrics[$n]}   -> ready"
      return 0
    fi
    kill -0 "${pid[$n]}" 2>/dev/null || fail "agent $n exited"
    sleep 0.5
  done
  fail "agent $n did not report ready within 60 s"
}

stop_agent() { # name: SIGTERM, then wait at most 10 s for the process to end
  kill -TERM "${pid[$1]}"
  for _ in $(seq 1 100); do kill -0 "${pid[$1]}" 2>/dev/null || return 0; sleep 0.1; done
  fail "agent $1 did not stop within 10 s of SIGTERM"
}

# Members other than self in a node's view (from `view`'s member table).
members() { # name
  cli view --grpc "127.0.0.1:${grpc[$1]}" | awk '/^MEMBER /{t=1; next} t && NF==0 {exit} t && $2 != "(self)" {print $1}' \
    | sort | tr '\n' ' ' | sed 's/ $//'
}

# Every session ever written: its last acknowledged version and counter value.
declare -A version value
written=()
# Writes a batch at once (one CLI JVM each), then records and prints them in order.
put() { # "name id count" ...
  local i
  local -a writes=("$@") ps=()
  for i in "${!writes[@]}"; do
    set -- ${writes[$i]}
    cli put "$2" "count=$3" --grpc "127.0.0.1:${grpc[$1]}" >"$run/put.$i" 2>&1 &
    ps+=($!)
  done
  for i in "${!writes[@]}"; do
    set -- ${writes[$i]}
    wait "${ps[$i]}" || fail "put $2 on $1: $(cat "$run/put.$i")"
    [ -n "${version[$2]:-}" ] || written+=("$2")
    version[$2]=$(sed -n 's/.* version \([0-9]*\) .*/\1/p' "$run/put.$i"); value[$2]=$3
    printf '   put %-9s count=%s on %s -> version %s\n' "$2" "$3" "$1" "${version[$2]}"
  done
}

# The count a node holds for a session, or "none" (get exits 4 for a session it does not hold).
count_at() { # name id
  local out rc=0
  out=$(cli get "$2" --json --grpc "127.0.0.1:${grpc[$1]}" 2>/dev/null) || rc=$?
  if [ "$rc" = 4 ]; then echo none; return; fi
  [ "$rc" = 0 ] || fail "get $2 on $1 exited $rc"
  echo "$out" | sed -n 's/.*"count":{[^}]*"utf8":"\([^"]*\)".*/\1/p'
}

# The counts for several "name id" at once, into got[] in order.
got=()
counts() { # "name id" ...
  local i
  local -a probes=("$@") ps=()
  for i in "${!probes[@]}"; do
    set -- ${probes[$i]}
    count_at "$1" "$2" >"$run/get.$i" &
    ps+=($!)
  done
  got=()
  for i in "${!probes[@]}"; do
    wait "${ps[$i]}" || true
    got+=("$(cat "$run/get.$i")")
  done
}

id() { printf 'sess-%02d' "$1"; }

echo "== node1 and node2 (cluster \"topology\", group $group:$mport on lo, everything on 127.0.0.1)"
start_agent node1
start_agent node2
await_ready node1
await_ready node2

echo
echo "== $sessions sessions, a counter each, written through node1 and node2 alternately"
batch=()
for i in $(seq 1 "$sessions"); do
  batch+=("node$((2 - i % 2)) $(id "$i") 1")
  if [ "${#batch[@]}" = 4 ] || [ "$i" = "$sessions" ]; then put "${batch[@]}"; batch=(); fi
done

echo
echo "== add node3: start its agent, wait until it reports ready (its state transfer is complete)"
start_agent node3
await_ready node3
show list --grpc "127.0.0.1:${grpc[node3]}" --limit 5
show view --grpc "127.0.0.1:${grpc[node3]}" | sed '/^     COUNTER/,$d' | sed '${/^ *$/d}'
held=$(cli list --json --limit 10000 --grpc "127.0.0.1:${grpc[node3]}" | grep -c '"id":' || true)
echo "   node3 holds $held of the $sessions sessions"
[ "$held" = "$sessions" ] || fail "node3 reported ready holding $held of $sessions sessions"

echo
echo "== remove node1: drain it (it leaves in order), the others drop it at once"
show drain --admin "127.0.0.1:${metrics[node1]}"
for _ in $(seq 1 10); do
  members node2 >"$run/members.2" & m2=$!
  members node3 >"$run/members.3" & m3=$!
  wait "$m2" "$m3" || true
  seen2=$(cat "$run/members.2"); seen3=$(cat "$run/members.3")
  [ "$seen2" = node3 ] && [ "$seen3" = node2 ] && break
  sleep 0.3
done
echo "   node2 now sees: ${seen2:-nobody}; node3 now sees: ${seen3:-nobody}"
[ "$seen2" = node3 ] && [ "$seen3" = node2 ] || fail "node1 is still in the others' view"
show view --grpc "127.0.0.1:${grpc[node2]}" | sed -n '/^     MEMBER/,/^ *$/p' | sed '${/^ *$/d}'
echo "   stopping node1's agent (pid ${pid[node1]})"
stop_agent node1

echo
echo "== replication off on node2; meanwhile writes on node2 and on node3"
show replication off --admin "127.0.0.1:${metrics[node2]}"
put "node2 sess-01 2" "node3 sess-02 2"
put "node2 off-node2 1" "node3 off-node3 1"
probes=("node3 sess-01" "node3 off-node2" "node2 sess-02" "node2 off-node3")
print_probes() {
  local i
  for i in "${!probes[@]}"; do
    set -- ${probes[$i]}
    printf '   %s holds %-9s with count %-4s (written %s on the other side)\n' "$1" "$2" "${got[$i]:-?}" "${value[$2]}"
  done
}
counts "${probes[@]}"
echo "   the writes did not cross:"
print_probes
for i in "${!probes[@]}"; do
  set -- ${probes[$i]}
  [ "${got[$i]}" = "${value[$2]}" ] && fail "$2 reached $1 while replication was off on node2"
done
show replication on --admin "127.0.0.1:${metrics[node2]}"
for _ in $(seq 1 20); do
  counts "${probes[@]}"
  crossed=true
  for i in "${!probes[@]}"; do
    set -- ${probes[$i]}
    [ "${got[$i]}" = "${value[$2]}" ] || crossed=false
  done
  $crossed && break
  sleep 0.5
done
echo "   now they have (anti-entropy, both ways):"
print_probes
$crossed || fail "the writes made while replication was off did not cross after it was back on"

echo
echo "== stop node2 in order: SIGTERM (queued changes are sent, the leave announced)"
stop_agent node2
seen3=$(members node3) || fail "view on node3"
echo "   node2 (pid ${pid[node2]}) has stopped; node3 now sees: ${seen3:-nobody}"

echo
echo "== add node4: it takes the whole table from node3 before it reports ready"
start_agent node4
await_ready node4
show view --grpc "127.0.0.1:${grpc[node4]}" | sed -n '/^     MEMBER/,/^ *$/p' | sed '${/^ *$/d}'

echo
echo "== every session ever written, at its last version and value, on node3 and node4"
summary=()
declare -A lost_ids=()
# The values, read back with get: the sessions written while replication was off, and the last.
checked=(sess-01 sess-02 off-node2 off-node3 "$(id "$sessions")")
for n in node3 node4; do
  listed=$(cli list --json --limit 10000 --grpc "127.0.0.1:${grpc[$n]}") || fail "list on $n"
  declare -A bad=()
  for s in "${written[@]}"; do
    v=$(echo "$listed" | sed -n "s/.*\"id\":\"$s\",\"version\":\([0-9]*\),.*/\1/p")
    [ "$v" = "${version[$s]}" ] || bad[$s]="holds version ${v:-none}, written ${version[$s]}"
  done
  probes=()
  for s in "${checked[@]}"; do probes+=("$n $s"); done
  counts "${probes[@]}"
  for i in "${!checked[@]}"; do
    s=${checked[$i]}
    printf '   %s: get %-9s -> count %s\n' "$n" "$s" "${got[$i]}"
    [ "${got[$i]}" = "${value[$s]}" ] || bad[$s]="count ${got[$i]}, written ${value[$s]}"
  done
  found=$((${#written[@]} - ${#bad[@]}))
  echo "   $n holds $found of the ${#written[@]} sessions at their last version (list --json) and value (get)"
  for s in "${!bad[@]}"; do echo "     missing on $n: $s (${bad[$s]})"; lost_ids[$s]=1; done
  summary+=("on $n $found")
  unset bad
done
lost=${#lost_ids[@]}

echo
echo "== summary: sessions written ${#written[@]}, found ${summary[0]}, ${summary[1]}, lost $lost"
[ "$lost" = 0 ] || exit 1
