#!/usr/bin/env bash
# The failover under load (FailoverUnderLoadIT) many times over, in several shapes, each run at a
# random moment: NGINX, two sample nodes and two agents on 127.0.0.1, stress-ng on both cores,
# 100 users, then a kill -9 on node1; the sample nodes on embedded Tomcat 11 (jakarta WAR) or
# embedded Tomcat 9 (javax WAR), one server per campaign. A shape is mode/kill/flow:
#   mode  async | sync         the filter's replication-mode
#   kill  both                 node1's app server and agent together
#         server               node1's app server alone (its agent goes on replicating)
#         agent                node1's agent alone, restarted 2 s later on its ports while the app
#                              server serves locally; 5 s after it is ready, node1's server and agent
#   flow  counter              GET /counter?pad=1024, 1 KiB written per request
#         login                a login (GET /login) then 20 reads (GET /whoami), over and over
#
#   sample-app/e2e/failover-campaign.sh                        the default shapes below, 10 runs each
#   sample-app/e2e/failover-campaign.sh --runs 3 async/agent/counter sync/agent/counter
#   sample-app/e2e/failover-campaign.sh --server tomcat9       the same on embedded Tomcat 9
#
# Default shapes: async|sync x both|server|agent with counter, async|sync x both with login.
# Options (or environment):
#   --runs N          runs of each shape, 1 to 50 (FAILOVER_RUNS, 10)
#   --server S        the sample nodes' server (FAILOVER_SERVER, tomcat11): tomcat11 runs
#                     sample-app/launcher's sample-node.jar with the jakarta WAR, tomcat9
#                     sample-app/launcher-tomcat9's sample-node-tomcat9.jar with the javax WAR
#   --kill-after S    seconds of load before the (first) kill, or a range lo-hi for a random moment in
#                     it (FAILOVER_KILL_AFTER, 6-10)
#   --max-minutes M   the whole campaign is stopped after M minutes and fails (FAILOVER_MAX_MINUTES,
#                     default: 2 per run, at least 10)
#   --no-build        take the modules it needs from the local Maven repository as installed
#                     (./mvnw -B install -DskipTests -pl sample-app/e2e -am) instead of building them
#   FAILOVER_MAVEN_ARGS  more Maven arguments, e.g. "-o -Dmaven.repo.local=/path/to/repo"
#
# Prints one line per run as it ends ("RUN shape server= result=PASS|FAIL users= requests= ..."), then
# a table per shape; also in sample-app/e2e/target/failover-campaign/. A run on another server than
# the one asked for counts as failed (wrong_server=). Each run's assertions are those of
# FailoverUnderLoadIT: no fresh session, no failed request, every user served after the
# kill; sync, and async with kill server: nothing gone back, nobody logged out; async otherwise:
# nothing beyond the writes answered in the last max-replication-lag (50 ms) + 20 ms before the
# kill. Exit status 0 only if every run passed.
# A run takes 30-45 s on 2 cores. Needs Java 17, nginx and stress-ng.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/../.."

runs=${FAILOVER_RUNS:-10}
server=${FAILOVER_SERVER:-tomcat11}
kill_after=${FAILOVER_KILL_AFTER:-6-10}
max_minutes=${FAILOVER_MAX_MINUTES:-}
build=true
shapes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --kill-after) kill_after=$2; shift 2 ;;
    --max-minutes) max_minutes=$2; shift 2 ;;
    --no-build) build=false; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) shapes+=("$1"); shift ;;
  esac
done
[ "${#shapes[@]}" -gt 0 ] || shapes=(async/both/counter sync/both/counter async/server/counter sync/server/counter
  async/agent/counter sync/agent/counter async/both/login sync/both/login)
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 1 ] || [ "$runs" -gt 50 ]; then
  echo "--runs: 1 to 50, was $runs" >&2; exit 2
fi
if ! [[ "$server" =~ ^(tomcat9|tomcat11)$ ]]; then
  echo "--server: tomcat9 or tomcat11, was $server" >&2; exit 2
fi
for s in "${shapes[@]}"; do
  if ! [[ "$s" =~ ^(async|sync)/(both|server|agent)/(counter|login)$ ]]; then
    echo "a shape is mode/kill/flow: async|sync / both|server|agent / counter|login; was $s" >&2; exit 2
  fi
done
if [ "$(printf '%s\n' "${shapes[@]}" | sort -u | wc -l)" -ne "${#shapes[@]}" ]; then
  echo "a shape is listed twice" >&2; exit 2
fi
expected=$(( runs * ${#shapes[@]} ))
[ -n "$max_minutes" ] || max_minutes=$(( expected * 2 > 10 ? expected * 2 : 10 ))

out=sample-app/e2e/target/failover-campaign
mkdir -p "$out"
log=$out/maven.log
results=$out/results.txt
: > "$results"
echo "FAILOVER-CAMPAIGN server=$server shapes=${shapes[*]} runs=$runs kill_after_s=$kill_after max_minutes=$max_minutes"
echo "(Maven output: $log)"

# Emptied before Maven starts, or the printer below could read the last campaign's lines.
: > "$log"
am=(-am)
$build || am=()
# Maven and everything it starts (agents, sample nodes, NGINX, stress-ng) are one process group,
# which timeout signals as a whole.
set +e
# shellcheck disable=SC2086 # FAILOVER_MAVEN_ARGS is a list of arguments
timeout -k 30 "${max_minutes}m" ./mvnw -B ${FAILOVER_MAVEN_ARGS:-} -pl sample-app/e2e "${am[@]}" verify \
  -Dit.test=FailoverUnderLoadIT -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfailsafe.failIfNoSpecifiedTests=false "-Dfailover.shapes=$(IFS=,; echo "${shapes[*]}")" \
  "-Dfailover.server=$server" "-Dfailover.runs=$runs" "-Dfailover.kill-after=$kill_after" > "$log" 2>&1 &
maven=$!
# One line per run as the test prints it: the runs take minutes, the table comes at the end.
tail -n +1 --pid=$maven -F "$log" 2>/dev/null | grep --line-buffered '^FAILOVER-LOAD ' \
  | sed -u -E 's/^FAILOVER-LOAD mode=([a-z]+) kill=([a-z]+) flow=([a-z]+) /RUN \1\/\2\/\3 /' &
printer=$!
wait $maven
maven_rc=$?
wait $printer 2>/dev/null
set -e

grep '^FAILOVER-LOAD ' sample-app/e2e/target/failover-under-load.txt > "$results" 2>/dev/null || true
awk -v expected="$expected" -v maven_rc="$maven_rc" -v server="$server" '
  function field(name,   i, kv) {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  {
    s = field("mode") "/" field("kill") "/" field("flow")
    if (!(s in runs)) order[++shapes] = s
    runs[s]++; n++
    if (field("server") != server) wrong++
    if (field("result") == "PASS" && field("server") == server) pass[s]++; else { fail[s]++; failed++ }
    requests[s] += field("requests"); fresh[s] += field("fresh_sessions")
    back[s] += field("went_back"); if (field("back_max") + 0 > backmax[s]) backmax[s] = field("back_max") + 0
    out[s] += field("logged_out"); over[s] += field("over_allowance")
    freq[s] += field("failed_requests"); s503[s] += field("status_503")
    if (field("served_locally") != "") local[s] += field("served_locally")
  }
  END {
    printf "\n%-20s %4s %4s %4s %9s %6s %9s %8s %10s %5s %7s %5s %7s\n", "shape", "runs", "pass", "fail",
      "requests", "fresh", "went_back", "back_max", "logged_out", "over", "failed", "503", "local"
    for (i = 1; i <= shapes; i++) {
      s = order[i]
      printf "%-20s %4d %4d %4d %9d %6d %9d %8d %10d %5d %7d %5d %7s\n", s, runs[s], pass[s], fail[s],
        requests[s], fresh[s], back[s], backmax[s], out[s], over[s], freq[s], s503[s],
        (s ~ /\/agent\//) ? local[s] + 0 : "-"
    }
    verdict = (failed == 0 && n == expected && maven_rc == 0) ? "PASS" : "FAIL"
    printf "\nFAILOVER-CAMPAIGN result=%s server=%s runs=%d of %d failed=%d wrong_server=%d maven_exit=%d\n",
      verdict, server, n, expected, failed, wrong, maven_rc
    exit verdict == "PASS" ? 0 : 1
  }' "$results" | tee "$out/summary.txt"
