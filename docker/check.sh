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
# The build stage of each Dockerfile, replayed on a copy of just what it COPYs (less .dockerignore's
# target directories): Maven loads every module of the root pom even with -pl, so a module the
# Dockerfile does not copy fails the image build. The Maven command runs up to validate, offline
# when the local repository has what it needs.
for f in docker/agent/Dockerfile docker/app/Dockerfile; do
  echo "build context: $f"
  ctx=$(mktemp -d)
  awk '/^FROM /{n++} n == 1 && /^COPY / && !/--from/ {print $2, $3}' "$f" | while read -r src dst; do
    if [ "$dst" != "$src" ] && [ "$dst" != ./ ]; then
      echo "$f: COPY $src $dst: this check replays only COPY of a path to itself or to ./"; exit 1
    fi
    tar -C . --exclude=target -cf - "$src" | tar -C "$ctx" -xf -
  done
  cp -a mvnw .mvn "$ctx/"
  args=$(awk '/^FROM /{n++} n == 1 && /^RUN mvn / {sub(/^RUN mvn /, ""); print}' "$f")
  # shellcheck disable=SC2086 # the Dockerfile's arguments, split as its shell splits them
  if ! (cd "$ctx" && ./mvnw ${args/package/validate} >"$ctx.log" 2>&1); then
    echo "the build stage of $f fails on what it copies:"; grep -E 'ERROR|does not exist' "$ctx.log" | head -5
    rm -rf "$ctx" "$ctx.log"; exit 1
  fi
  rm -rf "$ctx" "$ctx.log"
done
echo "dclint: docker/compose.yml"
# docker-compose 1.x (Debian's) refuses the top-level "name" that this rule asks for.
"$tools/node_modules/.bin/dclint" docker/compose.yml --max-warnings 0 --disable-rule require-project-name-field
echo "docker files: ok"
