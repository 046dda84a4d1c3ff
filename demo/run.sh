#!/usr/bin/env bash
# The whole thing on this machine: NGINX on 127.0.0.1:8080 in front of two app nodes (embedded
# Tomcat 11 running the sample app with the filter), each with its agent beside it. A user's
# session is built up through NGINX, then the node serving it is killed with SIGKILL, app server
# and agent together, and the next requests carry on on the other node with the same session.
#
#   ./demo/run.sh           run the scenario, stop everything; exit 0 only if the session survived
#   ./demo/run.sh --keep    build a session, then keep everything running: open the URL in a
#                           browser, kill -9 a node by hand (the lines are printed), reload.
#                           Ctrl-C stops everything.
#
# Needs Java 17, nginx and curl (installed with apt-get when missing and run as root).
# Everything listens on 127.0.0.1 only.
# Ports and group can be moved with DEMO_HTTP (8080), DEMO_NODE1 (8081), DEMO_NODE2 (8082),
# DEMO_GRPC_A (7400), DEMO_PEER_A (7401), DEMO_METRICS_A (7402), DEMO_GRPC_B (7410),
# DEMO_PEER_B (7411), DEMO_METRICS_B (7412), DEMO_GROUP (239.255.27.1), DEMO_PORT (45588).
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
[ "${1:-}" = "--keep" ] && keep=true

missing=()
for tool in nginx curl; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # On a fresh Debian machine, as root, fetch them; installing nginx starts no daemon here, the
  # demo runs its own from demo/run/.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "the demo needs ${missing[*]} (e.g. sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
fi
if ! command -v java >/dev/null 2>&1; then
  echo "the demo needs Java 17 (a JDK)" >&2
  exit 1
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

agent_jar=agent/target/session-agent.jar
node_jar=sample-app/launcher/target/sample-node.jar
war=sample-app/jakarta/target/sample-app-jakarta.war
if [ ! -f "$agent_jar" ] || [ ! -f "$node_jar" ] || [ ! -f "$war" ]; then
  echo "== building the agent, the filter and the sample app (first run only)"
  ./mvnw -q -B -DskipTests package
fi

http=${DEMO_HTTP:-8080}; node1_port=${DEMO_NODE1:-8081}; node2_port=${DEMO_NODE2:-8082}
grpc_a=${DEMO_GRPC_A:-7400}; peer_a=${DEMO_PEER_A:-7401}; metrics_a=${DEMO_METRICS_A:-7402}
grpc_b=${DEMO_GRPC_B:-7410}; peer_b=${DEMO_PEER_B:-7411}; metrics_b=${DEMO_METRICS_B:-7412}
group=${DEMO_GROUP:-239.255.27.1}; mport=${DEMO_PORT:-45588}
run=$(pwd)/demo/run
rm -rf "$run"; mkdir -p "$run/nginx"
pids=()
nginx_pid=

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$nginx_pid" ]; then kill -TERM "$nginx_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=false
    for p in "${pids[@]}" $nginx_pid; do kill -0 "$p" 2>/dev/null && alive=true; done
    $alive || break
    sleep 0.1
  done
  for p in "${pids[@]}" $nginx_pid; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'echo; echo "stopping"; exit 130' INT TERM

# One cluster key for both agents: every datagram and peer message between them is sealed.
java -jar "$agent_jar" keygen --id 1 >"$run/cluster.keys"
chmod 600 "$run/cluster.keys"

start_agent() { # name grpc peer metrics
  java -Xmx256m -jar "$agent_jar" --cluster-name=demo --node-name="$1" --cluster-key-file="$run/cluster.keys" \
    --multicast-group="$group" --multicast-port="$mport" --multicast-interface=lo --multicast-ttl=0 \
    --grpc-port="$2" --peer-address=127.0.0.1 --peer-port="$3" --metrics-port="$4" >"$run/agent-$1.log" 2>&1 &
  pids+=($!); disown $!
  echo "   agent $1: pid $!, SessionService 127.0.0.1:$2, http://127.0.0.1:$4/metrics, log demo/run/agent-$1.log"
}

start_node() { # route port agent-grpc
  java -Xmx256m -jar "$node_jar" --port "$2" --route "$1" --agent "127.0.0.1:$3" --war "$war" \
    >"$run/app-$1.log" 2>&1 &
  pids+=($!); disown $!
  echo "   app server $1: pid $!, http://127.0.0.1:$2/counter, log demo/run/app-$1.log"
}

await_http() { # url what pid
  for _ in $(seq 1 300); do
    if curl -sf -o /dev/null --max-time 2 "$1"; then return 0; fi
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$2 did not answer at $1; logs:" >&2
  tail -n 15 "$run"/*.log "$run/nginx/error.log" >&2 || true
  exit 1
}

echo "== starting two agents, two app servers with the filter, and NGINX (everything on 127.0.0.1)"
start_agent node1 "$grpc_a" "$peer_a" "$metrics_a"; agent1=${pids[-1]}
start_agent node2 "$grpc_b" "$peer_b" "$metrics_b"; agent2=${pids[-1]}
start_node node1 "$node1_port" "$grpc_a"; app1=${pids[-1]}
start_node node2 "$node2_port" "$grpc_b"; app2=${pids[-1]}
sed -e "s#{{run_dir}}#$run/nginx#g" -e "s#{{listen_address}}#127.0.0.1#g" -e "s#{{listen_port}}#$http#g" \
    -e "s#{{node1}}#127.0.0.1:$node1_port#g" -e "s#{{node2}}#127.0.0.1:$node2_port#g" \
    nginx/nginx.conf.template >"$run/nginx/nginx.conf"
"$nginx_bin" -p "$run/nginx" -c nginx.conf -e "$run/nginx/error.log" -g 'daemon off;' >"$run/nginx/stdout.log" 2>&1 &
nginx_pid=$!; disown $!
echo "   nginx: pid $nginx_pid, http://127.0.0.1:$http/, config demo/run/nginx/nginx.conf, log demo/run/nginx/access.log"

await_http "http://127.0.0.1:$metrics_a/ready" "agent node1" "$agent1"
await_http "http://127.0.0.1:$metrics_b/ready" "agent node2" "$agent2"
await_http "http://127.0.0.1:$node1_port/counter/peek" "app server node1" "$app1"
await_http "http://127.0.0.1:$node2_port/counter/peek" "app server node2" "$app2"
await_http "http://127.0.0.1:$http/counter/peek" "nginx" "$nginx_pid"
echo
echo "== ready: http://127.0.0.1:$http/counter"

jar="$run/cookies.txt"
request() { # method path
  local out
  out=$(curl -sS --max-time 15 -b "$jar" -c "$jar" -X "$1" "http://127.0.0.1:$http$2")
  printf '   %-4s %-22s -> %s\n' "$1" "$2" "$out" >&2
  echo "$out"
}
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }

echo
echo "== a user (curl with a cookie jar) shops through NGINX"
for _ in 1 2 3; do last=$(request GET /counter); done
request POST "/cart/add?item=book" >/dev/null
request POST "/cart/add?item=pen" >/dev/null
request GET /cart >/dev/null
last=$(request GET /counter)
count=$(echo "$last" | field count)
session=$(echo "$last" | field session)
served=$(echo "$last" | field node)
echo "   session $session lives on $served; its cookie: $(grep SASESSIONID "$jar" | awk '{print $NF}')"

if [ "$served" = node1 ]; then
  victim_app=$app1; victim_agent=$agent1; other=node2
else
  victim_app=$app2; victim_agent=$agent2; other=node1
fi

if $keep; then
  echo
  echo "Everything keeps running. Open http://127.0.0.1:$http/counter in a browser (reload to count;"
  echo "see http://127.0.0.1:$http/cart), note which \"node\" serves you, then kill that node:"
  echo "   kill -9 $app1 $agent1   # node1: app server and agent"
  echo "   kill -9 $app2 $agent2   # node2: app server and agent"
  echo "and reload: the other node answers with the same session and the count goes on."
  echo "Ctrl-C stops everything."
  while true; do sleep 1; done
fi

echo
echo "== kill -9 $served: its app server (pid $victim_app) and its agent (pid $victim_agent), no goodbye"
kill -9 "$victim_app" "$victim_agent"

echo
echo "== the same user's next requests, through NGINX"
after=$(request GET /counter)
cart=$(request GET /cart)
again=$(request GET /counter)
echo "   now served by $(echo "$again" | field node); cookie: $(grep SASESSIONID "$jar" | awk '{print $NF}')"

ok=true
[ "$(echo "$after" | field session)" = "$session" ] || ok=false
[ "$(echo "$after" | field node)" = "$other" ] || ok=false
[ "$(echo "$after" | field count)" = "$((count + 1))" ] || ok=false
[ "$(echo "$again" | field count)" = "$((count + 2))" ] || ok=false
echo "$cart" | grep -q '"items":\["book","pen"\]' || ok=false
echo
if $ok; then
  echo "== the session survived the kill of $served: $other went on counting from $count and kept the cart"
  exit 0
fi
echo "== FAILED: the session did not survive the kill of $served" >&2
exit 1
