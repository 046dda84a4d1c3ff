#!/usr/bin/env bash
# The namespace soak (SoakIT) at a campaign's length: three agent processes in network namespaces,
# 5% of every incoming packet dropped, writes in SYNC_ALL, SYNC_ONE and ASYNC at 80/s per node,
# kill -9 and restart of an agent and a node cut off and reconnected, in turn, for the whole load.
# verify runs the same test with 30 s of load (one kill, one partition); this runs it for longer.
#
#   agent/soak.sh              10 minutes of load
#   agent/soak.sh 60           an hour
#   SOAK_MAVEN_ARGS="-o" agent/soak.sh 5
#
# Prints one SOAK-EVENT line per kill, restart, cut and reconnection, then the SOAK summary (also in
# agent/target/soak-result.txt); the agents' logs are in agent/target/netns-logs/. Exit status 0
# only if the soak's assertions held. Needs root, ip (iproute2), nft (nftables) and Java 17.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-${SOAK_MINUTES:-10}}
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || [ "$minutes" = 0 ]; then
  echo "usage: agent/soak.sh [load minutes, above 0; default 10]" >&2
  exit 2
fi
# shellcheck disable=SC2086
exec ./mvnw -B ${SOAK_MAVEN_ARGS:-} -pl agent -am verify -Dit.test=SoakIT -Dtest=NoSuchTest \
  -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  -Dsoak.minutes="$minutes"
