#!/usr/bin/env bash
# Validates the Docker files without a Docker engine: the compose file with docker-compose's own
# parser, the Dockerfiles and the compose file with linters from npm. Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-compose >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Without --no-install-recommends this would pull a whole Docker engine.
  apt-get install -y -qq --no-install-recommends docker-compose
fi
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
npm install --silent --no-audit --no-fund --prefix "$tools" dockerfile-utils@0.16.3 dclint@3.1.0 >/dev/null

echo "docker-compose config: docker/compose.yml"
docker-compose -f docker/compose.yml config -q
for f in docker/agent/Dockerfile docker/app/Dockerfile; do
  echo "dockerfile-utils lint: $f"
  out=$("$tools/node_modules/.bin/dockerfile-utils" lint "$f")
  if [ -n "$out" ]; then echo "$out"; exit 1; fi
done
echo "dclint: docker/compose.yml"
# docker-compose 1.x (Debian's) refuses the top-level "name" that this rule asks for.
"$tools/node_modules/.bin/dclint" docker/compose.yml --max-warnings 0 --disable-rule require-project-name-field
echo "docker files: ok"
