#!/usr/bin/env bash
# The filter on real server distributions. For each server: fetch the distribution from Maven
# Central (cached in ~/.m2 and target/matrix/dist), unpack it into a temporary directory, deploy
# the sample WAR the way docs/filter.md ("The servlet filter") tells a user (the README's -all jar as the
# only jar in WEB-INF/lib, the filter first in web.xml), start two nodes and two agents on
# 127.0.0.1 behind NGINX (nginx/nginx.conf.template, sticky on the cookie's route), run simulated
# users with a cookie each (servers/Users.java), kill -9 node1's server and agent mid-load, and
# check that every user kept its session: same id, counter never reset or gone back, every GET
# answered, every cart item confirmed with a 200 still in the cart, and the cart's count of adds (a
# value that is not Serializable) still equal to its number of items. Tomcat 6 and Jetty 6 (Servlet
# 2.5) have no distribution archive on Maven Central: they run from the runnable jars of
# servers/servlet25, which embed them from their Maven Central jars, with the WAR's web.xml in the
# Servlet 2.5 form docs/filter.md shows (no <async-supported>, no ASYNC dispatcher).
#
#   servers/matrix.sh                 the CI set: tomcat9 jetty12 jetty6
#   servers/matrix.sh all             every server below
#   servers/matrix.sh tomcat7 jetty9  the servers named
#
# Servers: tomcat6 tomcat7 tomcat9 tomcat10 tomcat11 jetty6 jetty9 jetty12 glassfish7 payara-micro tomee8
# Options (or environment):
#   --users N        simulated users (MATRIX_USERS, 50)
#   --before S       seconds of load between every user having a session and the kill (MATRIX_BEFORE, 4)
#   --after S        seconds of load after the kill (MATRIX_AFTER, 6)
#   --without-filter deploy the WAR with the filter taken out of web.xml: a control run that must FAIL
#   --keep           keep each server's temporary directory (logs) even when it passed
#
# Prints one line per server, "MATRIX server=... result=PASS|FAIL users=... requests=...
# sessions_lost=... duration_s=...", then a table; also written to target/matrix/results.txt.
# Exit status 0 only if every server passed. Needs the build (./mvnw -B -DskipTests package),
# Java 17, nginx, curl, unzip, ss (iproute2). Everything binds 127.0.0.1; the agents' multicast
# stays on lo with TTL 0.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
root=$(pwd)

users=${MATRIX_USERS:-50}
before=${MATRIX_BEFORE:-4}
after=${MATRIX_AFTER:-6}
without_filter=false
keep=false
servers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --users) users=$2; shift 2 ;;
    --before) before=$2; shift 2 ;;
    --after) after=$2; shift 2 ;;
    --without-filter) without_filter=true; shift ;;
    --keep) keep=true; shift ;;
    all) servers+=(tomcat6 tomcat7 tomcat9 tomcat10 tomcat11 jetty6 jetty9 jetty12 glassfish7 payara-micro tomee8); shift ;;
    ci) servers+=(tomcat9 jetty12 jetty6); shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) servers+=("$1"); shift ;;
  esac
done
[ "${#servers[@]}" -gt 0 ] || servers=(tomcat9 jetty12 jetty6)

# id -> version, Maven coordinates, servlet flavour of the sample WAR. Each version is the release
# whose run docs/servers.md's "Supported servers" table records; a new one means a new run and row.
declare -A version coords flavour
version[tomcat7]=7.0.109;  coords[tomcat7]=org.apache.tomcat:tomcat:7.0.109:tar.gz; flavour[tomcat7]=javax
version[tomcat9]=9.0.100;  coords[tomcat9]=org.apache.tomcat:tomcat:9.0.100:tar.gz; flavour[tomcat9]=javax
version[tomcat10]=10.1.49; coords[tomcat10]=org.apache.tomcat:tomcat:10.1.49:tar.gz; flavour[tomcat10]=jakarta
version[tomcat11]=11.0.15; coords[tomcat11]=org.apache.tomcat:tomcat:11.0.15:tar.gz; flavour[tomcat11]=jakarta
version[jetty9]=9.4.57.v20241219; coords[jetty9]=org.eclipse.jetty:jetty-distribution:9.4.57.v20241219:tar.gz; flavour[jetty9]=javax
version[jetty12]=12.0.16;  coords[jetty12]=org.eclipse.jetty:jetty-home:12.0.16:tar.gz; flavour[jetty12]=jakarta
version[glassfish7]=7.0.20; coords[glassfish7]=org.glassfish.main.distributions:glassfish:7.0.20:zip; flavour[glassfish7]=jakarta
version[payara-micro]=6.2025.10; coords[payara-micro]=fish.payara.extras:payara-micro:6.2025.10:jar; flavour[payara-micro]=jakarta
# TomEE has no distribution archive on Maven Central; its embedded form is fetched with its
# dependencies from servers/tomee/pom.xml (9.x does not resolve there: see that file).
version[tomee8]=8.0.16;    coords[tomee8]=servers/tomee/pom.xml; flavour[tomee8]=javax
# Servlet 2.5: embedded from Maven Central jars by servers/servlet25 (built with the rest), deployed
# with the 2.5 form of web.xml.
version[tomcat6]=6.0.53;   coords[tomcat6]=servers/servlet25/target/tomcat6-launcher.jar; flavour[tomcat6]=javax
version[jetty6]=6.1.26;    coords[jetty6]=servers/servlet25/target/jetty6-launcher.jar; flavour[jetty6]=javax
declare -A servlet25=([tomcat6]=true [jetty6]=true)
for s in "${servers[@]}"; do
  [ -n "${version[$s]:-}" ] || { echo "unknown server $s (known: ${!version[*]})" >&2; exit 2; }
  if [ -n "${servlet25[$s]:-}" ] && [ ! -f "${coords[$s]}" ]; then
    echo "${coords[$s]} missing: build first (./mvnw -B -DskipTests package)" >&2; exit 2
  fi
done

for tool in java nginx curl unzip ss jar; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "matrix.sh needs $tool" >&2; exit 2; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
agent_jar=$root/agent/target/session-agent.jar
for f in "$agent_jar" sample-app/javax/target/sample-app-javax.war sample-app/jakarta/target/sample-app-jakarta.war; do
  [ -f "$f" ] || { echo "$f missing: build first (./mvnw -B -DskipTests package)" >&2; exit 2; }
done

mkdir -p target/matrix/dist target/matrix/run
results=$root/target/matrix/results.txt
: >"$results"

# ---------------------------------------------------------------------------------------------
# Helpers shared by every server. Each server runs in its own subshell whose EXIT trap kills the
# processes it started (recorded by pid) and nothing else.

declare -A used_ports
free_port() { # VAR: a TCP port nobody uses and not handed out before in this run
  local p ephemeral
  # Below the kernel's ephemeral range: a port in it can be taken as the local port of any
  # connection made before the server that was given it binds it.
  ephemeral=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$ephemeral" -gt 21000 ] || ephemeral=32768
  while true; do
    p=$((10000 + RANDOM % (ephemeral - 10000)))
    [ -z "${used_ports[$p]:-}" ] || continue
    [ -z "$(ss -Htan "sport = :$p")" ] || continue
    used_ports[$p]=1
    printf -v "$1" '%s' "$p"
    return
  done
}

free_port_base() { # VAR: a multiple of 100 whose ports base+0..base+99 are all free (GlassFish's port base)
  local b i taken ephemeral span
  # Below the kernel's ephemeral range: create-domain probes its ports again later (even with
  # --checkports=false) and fails if any connection made meanwhile took one of them as its local port.
  ephemeral=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$(( (ephemeral - 100) / 100 - 200 ))
  [ "$span" -ge 10 ] || span=390
  while true; do
    b=$(( (200 + RANDOM % span) * 100 ))
    taken=false
    for i in $(seq "$b" $((b + 99))); do [ -z "${used_ports[$i]:-}" ] || { taken=true; break; }; done
    $taken && continue
    [ -z "$(ss -Htan "( sport >= :$b and sport <= :$((b + 99)) )")" ] || continue
    # The whole range is the domain's: no later free_port hands out one of its ports.
    for i in $(seq "$b" $((b + 99))); do used_ports[$i]=1; done
    printf -v "$1" '%s' "$b"
    return
  done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { # ms -> seconds with one decimal
  printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100))
}

pid_listening() { # the process listening on 127.0.0.1:PORT
  ss -Htlnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1
}

fetch() { # coordinates -> path of the cached archive
  local c=$1 g a v e file
  IFS=: read -r g a v e <<<"$c"
  file=$root/target/matrix/dist/$a-$v.$e
  if [ ! -f "$file" ]; then
    ./mvnw -B -q -N dependency:copy -Dartifact="$c" -DoutputDirectory="$root/target/matrix/dist" >&2
  fi
  echo "$file"
}

# The WAR of one node: the sample WAR of the server's flavour with, as the README says, the
# README's -all jar as the only jar in WEB-INF/lib and the filter declared first in web.xml; the
# node's agent goes in the agent-address init-param (two agents share this machine), the route
# comes from the server's -DjvmRoute.
make_war() { # flavour node agent-grpc-port out.war [servlet25]
  local fl=$1 node=$2 grpc=$3 out=$4 form=${5:-} d jars readme_jar web
  d=$(dirname "$out")/war-$node
  rm -rf "$d"; mkdir -p "$d"
  unzip -q "$root/sample-app/$fl/target/sample-app-$fl.war" -d "$d"
  jars=("$root"/client-servlet-filter/"$fl"/target/session-agent-filter-"$fl"-*-all.jar)
  readme_jar=${jars[0]}
  [ -f "$readme_jar" ] || { echo "no $readme_jar: build first" >&2; return 1; }
  rm -f "$d"/WEB-INF/lib/*.jar
  cp "$readme_jar" "$d/WEB-INF/lib/"
  web=$d/WEB-INF/web.xml
  grep -q "<filter-class>io.sessionagent.filter.$fl.SessionReplicationFilter</filter-class>" "$web" \
    || { echo "$web does not declare io.sessionagent.filter.$fl.SessionReplicationFilter" >&2; return 1; }
  sed -i "s#<async-supported>true</async-supported>#&\n    <init-param>\n      <param-name>agent-address</param-name>\n      <param-value>127.0.0.1:$grpc</param-value>\n    </init-param>#" "$web"
  grep -q "<param-value>127.0.0.1:$grpc</param-value>" "$web" || { echo "agent-address not set in $web" >&2; return 1; }
  if [ "$form" = servlet25 ]; then
    servlet25_web_xml "$web"
  fi
  if $without_filter; then
    sed -i -e '/<filter>/,/<\/filter>/d' -e '/<filter-mapping>/,/<\/filter-mapping>/d' "$web"
  fi
  (cd "$d" && jar cfM0 "$out" .)
}

# The sample's web.xml in the Servlet 2.5 form of docs/filter.md ("Servlet 2.5 containers"): the 2.5
# schema, and neither <async-supported>, the ASYNC dispatcher nor <absolute-ordering>, which 2.5
# does not know.
servlet25_web_xml() { # web.xml
  sed -i -e 's#web-app_3_0\.xsd#web-app_2_5.xsd#' -e 's#version="3\.0"#version="2.5"#' \
         -e '/<async-supported>/d' -e '/<dispatcher>ASYNC<\/dispatcher>/d' \
         -e '/<absolute-ordering\/>/d' -e '/Nothing in WEB-INF\/lib contributes/d' "$1"
  if grep -Eq 'async-supported|>ASYNC<|absolute-ordering|web-app_3|version="3' "$1" \
     || ! grep -q 'version="2.5"' "$1"; then
    echo "$1 is not in the Servlet 2.5 form" >&2; return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Servers: prepare_KIND unpacks and configures a node, start_KIND starts it in the background and
# prints the pid of what it started (the JVM itself, or a launcher whose JVM is found by its port).

prepare_tomcat() { # node port war
  local dir=$work/$1
  mkdir -p "$dir"
  tar xzf "$dist" -C "$dir" --strip-components=1
  # The HTTP connector on 127.0.0.1:PORT; no shutdown port, no AJP connector (Tomcat 7 has one
  # open on 8009 by default). The <Cluster> element stays commented out: no Tomcat replication.
  sed -i -e 's/port="8005"/port="-1"/' -e '/protocol="AJP\/1.3"/d' \
         -e "s/port=\"8080\"/port=\"$2\" address=\"127.0.0.1\"/" "$dir/conf/server.xml"
  grep -q "<Connector port=\"$2\" address=\"127.0.0.1\"" "$dir/conf/server.xml"
  if perl -0pe 's/<!--.*?-->//gs' "$dir/conf/server.xml" | grep -q '<Cluster'; then
    echo "$dir/conf/server.xml configures a Cluster" >&2; return 1
  fi
  rm -rf "$dir"/webapps/*
  cp "$3" "$dir/webapps/ROOT.war"
}
start_tomcat() { # node
  local dir=$work/$1
  # catalina.sh run execs java: the pid is the JVM's.
  CATALINA_HOME=$dir CATALINA_BASE=$dir CATALINA_PID= CATALINA_OPTS= \
    JAVA_OPTS="-Xmx256m -DjvmRoute=$1" "$dir/bin/catalina.sh" run >"$work/$1.log" 2>&1 &
  echo $!
}

prepare_jetty() { # node port war
  local home=$work/jetty-home base=$work/$1
  if [ ! -d "$home" ]; then
    mkdir -p "$home"; tar xzf "$dist" -C "$home" --strip-components=1
  fi
  mkdir -p "$base/webapps"
  if [ "$server" = jetty9 ]; then
    (cd "$base" && java -jar "$home/start.jar" jetty.home="$home" jetty.base="$base" --add-to-start=http,deploy >"$work/$1-setup.log" 2>&1)
  else
    (cd "$base" && java -jar "$home/start.jar" jetty.home="$home" jetty.base="$base" --add-modules=http,ee10-deploy >"$work/$1-setup.log" 2>&1)
  fi
  cp "$3" "$base/webapps/ROOT.war"
  echo "jetty.http.host=127.0.0.1" >>"$base/start.ini"
  echo "jetty.http.port=$2" >>"$base/start.ini"
}
start_jetty() { # node
  local home=$work/jetty-home base=$work/$1
  (cd "$base" && exec java -Xmx256m -DjvmRoute="$1" -jar "$home/start.jar" jetty.home="$home" jetty.base="$base") \
    >"$work/$1.log" 2>&1 &
  echo $!
}

gf_base() { case "$1" in node1) echo "$gf_base1" ;; *) echo "$gf_base2" ;; esac; }
prepare_glassfish() { # node port war
  local asadmin=$work/glassfish7/bin/asadmin base xml
  if [ ! -d "$work/glassfish7" ]; then
    unzip -q "$dist" -d "$work"
  fi
  base=$(gf_base "$1")
  # A domain per node (no cluster, no GMS, no session availability): ports from the port base,
  # http on base+80, admin on base+48.
  "$asadmin" create-domain --domaindir "$work/domains" --portbase "$base" --nopassword=true --user admin \
    --checkports=false "$1" >"$work/$1-setup.log" 2>&1
  xml=$work/domains/$1/config/domain.xml
  sed -i -e 's/address="0\.0\.0\.0"/address="127.0.0.1"/g' \
         -e '/<network-listener /{/address=/!s/<network-listener /<network-listener address="127.0.0.1" /}' \
         -e "s#<jvm-options>-Xmx512m</jvm-options>#<jvm-options>-Xmx384m</jvm-options><jvm-options>-DjvmRoute=$1</jvm-options>#" "$xml"
  grep -q -- "-DjvmRoute=$1" "$xml" || { echo "could not set jvmRoute in $xml" >&2; return 1; }
  [ "$2" = $((base + 80)) ] || { echo "http port $2 is not port base + 80" >&2; return 1; }
}
start_glassfish() { # node
  local asadmin=$work/glassfish7/bin/asadmin base
  base=$(gf_base "$1")
  # start-domain returns once the domain runs; its JVM is found by its http port.
  "$asadmin" start-domain --domaindir "$work/domains" "$1" >"$work/$1.log" 2>&1
  "$asadmin" --port $((base + 48)) deploy --contextroot / --name sample "$work/$1.war" >>"$work/$1.log" 2>&1
  pid_listening $((base + 80))
}

prepare_payara() { # node port war
  mkdir -p "$work/$1-root"
  # --nocluster: clustering off (clustering-enabled=false), no distributed sessions; the preboot command binds HTTP to 127.0.0.1.
  echo "set configs.config.server-config.network-config.network-listeners.network-listener.http-listener.address=127.0.0.1" \
    >"$work/$1-preboot.txt"
  echo "$2" >"$work/$1.port"
}
start_payara() { # node
  java -Xmx384m -DjvmRoute="$1" -jar "$dist" --nocluster --port "$(cat "$work/$1.port")" \
    --rootdir "$work/$1-root" --prebootcommandfile "$work/$1-preboot.txt" \
    --deploy "$work/$1.war" --contextroot / >"$work/$1.log" 2>&1 &
  echo $!
}

prepare_tomee() { # node port war
  local lib=$root/target/matrix/tomee-${version[$server]}/lib
  if [ ! -d "$lib" ]; then
    ./mvnw -B -q -f servers/tomee/pom.xml -Dtomee.version="${version[$server]}" dependency:copy-dependencies \
      -DoutputDirectory="$lib" >&2
  fi
  local shutdown
  free_port shutdown
  mkdir -p "$work/$1-tomee"
  echo "$2" >"$work/$1.port"
  echo "$shutdown" >"$work/$1.shutdown"
}
start_tomee() { # node
  local lib=$root/target/matrix/tomee-${version[$server]}/lib port
  port=$(cat "$work/$1.port")
  # --host only names the host; the connector binds 127.0.0.1 through its "address" attribute.
  java -Xmx384m -DjvmRoute="$1" -cp "$lib/*" org.apache.tomee.embedded.Main --host 127.0.0.1 --port "$port" \
    --property connector.attributes.address=127.0.0.1 \
    --shutdown "$(cat "$work/$1.shutdown")" --directory "$work/$1-tomee" --path "$work/$1.war" --context / \
    >"$work/$1.log" 2>&1 &
  echo $!
}

# Tomcat 6 and Jetty 6 from a runnable jar of servers/servlet25, the WAR exploded into the node's directory.
prepare_embedded25() { # node port war
  local dir=$work/$1
  mkdir -p "$dir/webapp"
  unzip -q "$3" -d "$dir/webapp"
  echo "$2" >"$work/$1.port"
}
start_embedded25() { # node
  local dir=$work/$1
  java -Xmx256m -DjvmRoute="$1" -jar "$root/${coords[$server]}" --port "$(cat "$work/$1.port")" \
    --webapp "$dir/webapp" --work "$dir" >"$work/$1.log" 2>&1 &
  echo $!
}

kind_of() {
  case "$1" in
    tomcat6|jetty6) echo embedded25 ;;
    tomcat*) echo tomcat ;; jetty*) echo jetty ;; glassfish*) echo glassfish ;;
    payara*) echo payara ;; tomee*) echo tomee ;;
  esac
}

# ---------------------------------------------------------------------------------------------

await_http() { # url seconds pid what
  local i
  for i in $(seq 1 $(($2 * 5))); do
    if curl -sf -o /dev/null --max-time 2 "$1"; then return 0; fi
    if [ -n "$3" ] && ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$4 did not answer 200 at $1 within $2 s" >&2
  return 1
}

run_server() { # server work-dir
  server=$1 work=$2
  local kind fl started
  kind=$(kind_of "$server")
  fl=${flavour[$server]}
  started=$(now_ms)
  local grpc1 grpc2 peer1 peer2 m1 m2 port1 port2 nginx_port cluster group mport
  pids=()
  nginx_pid=
  cleanup() {
    local p
    # NGINX's master stops its worker; a SIGKILLed master could not.
    if [ -n "$nginx_pid" ]; then kill -TERM "$nginx_pid" 2>/dev/null || true; sleep 0.5; fi
    for p in "${pids[@]}" $(pid_listening "${port1:-0}") $(pid_listening "${port2:-0}"); do
      kill -9 "$p" 2>/dev/null || true
    done
  }
  trap cleanup EXIT

  case "$kind" in tomee|embedded25) dist= ;; *) dist=$(fetch "${coords[$server]}") ;; esac
  free_port grpc1; free_port grpc2; free_port peer1; free_port peer2; free_port m1; free_port m2
  if [ "$kind" = glassfish ]; then
    free_port_base gf_base1; free_port_base gf_base2
    port1=$((gf_base1 + 80)); port2=$((gf_base2 + 80))
  else
    free_port port1; free_port port2
  fi
  free_port nginx_port
  cluster=matrix-$server-$$-$RANDOM
  group=239.255.$((1 + RANDOM % 254)).$((1 + RANDOM % 254)); mport=$((20000 + RANDOM % 40000))

  echo "== $server ${version[$server]} ($fl WAR) in $work" >&2
  # The agents start first: they come up while the server is unpacked and configured.
  local agent1 agent2
  start_agent() { # node grpc peer metrics
    java -Xmx192m -jar "$agent_jar" --cluster-name="$cluster" --node-name="$1" \
      --multicast-group="$group" --multicast-port="$mport" --multicast-interface=lo --multicast-ttl=0 \
      --grpc-port="$2" --peer-address=127.0.0.1 --peer-port="$3" --metrics-port="$4" \
      --join-wait=800ms >"$work/agent-$1.log" 2>&1 &
    echo $!
  }
  agent1=$(start_agent node1 "$grpc1" "$peer1" "$m1"); pids+=("$agent1")
  agent2=$(start_agent node2 "$grpc2" "$peer2" "$m2"); pids+=("$agent2")
  local form=
  [ -z "${servlet25[$server]:-}" ] || form=servlet25
  make_war "$fl" node1 "$grpc1" "$work/node1.war" ${form:+"$form"}
  make_war "$fl" node2 "$grpc2" "$work/node2.war" ${form:+"$form"}
  "prepare_$kind" node1 "$port1" "$work/node1.war"
  "prepare_$kind" node2 "$port2" "$work/node2.war"

  await_http "http://127.0.0.1:$m1/ready" 30 "$agent1" "agent node1"
  await_http "http://127.0.0.1:$m2/ready" 30 "$agent2" "agent node2"
  local wait_s=90 l1 l2
  case "$kind" in glassfish|payara|tomee) wait_s=240 ;; esac
  l1=$("start_$kind" node1); pids+=("$l1")
  l2=$("start_$kind" node2); pids+=("$l2")
  await_http "http://127.0.0.1:$port1/counter/peek" "$wait_s" "$l1" "$server node1"
  await_http "http://127.0.0.1:$port2/counter/peek" "$wait_s" "$l2" "$server node2"
  local jvm1 jvm2
  jvm1=$(pid_listening "$port1"); jvm2=$(pid_listening "$port2")
  [ -n "$jvm1" ] && [ -n "$jvm2" ] || { echo "no process listens on $port1 or $port2" >&2; return 1; }
  pids+=("$jvm1" "$jvm2")
  # Every TCP port the two server JVMs listen on, other than on 127.0.0.1 (reported, not hidden).
  local exposed
  exposed=$(ss -Htlnp | grep -E "pid=($jvm1|$jvm2)," | awk '{print $4}' \
              | grep -Ev '^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):' | sort -u | paste -sd, || true)
  local ready
  ready=$(now_ms)

  mkdir -p "$work/nginx"
  sed -e "s#{{run_dir}}#$work/nginx#g" -e "s#{{listen_address}}#127.0.0.1#g" -e "s#{{listen_port}}#$nginx_port#g" \
      -e "s#{{node1}}#127.0.0.1:$port1#g" -e "s#{{node2}}#127.0.0.1:$port2#g" \
      nginx/nginx.conf.template >"$work/nginx/nginx.conf"
  "$nginx_bin" -p "$work/nginx" -c nginx.conf -e "$work/nginx/error.log" -g 'daemon off;' \
    >"$work/nginx/stdout.log" 2>&1 &
  nginx_pid=$!
  await_http "http://127.0.0.1:$nginx_port/counter/peek" 10 "$nginx_pid" nginx

  local line rc=0 ended
  line=$(java "$root/servers/Users.java" --url "http://127.0.0.1:$nginx_port" --users "$users" \
           --before "$before" --after "$after" --kill "$jvm1,$agent1" --killed node1 2>"$work/users.err") || rc=$?
  ended=$(now_ms)
  [ -n "$line" ] || line="result=FAIL users=$users requests=0 sessions_lost=?"
  line="MATRIX server=$server version=${version[$server]} war=$fl $line non_loopback_listeners=${exposed:-none} startup_s=$(seconds $((ready - started))) duration_s=$(seconds $((ended - started)))"
  echo "$line"
  echo "$line" >>"$results"
  if [ "$rc" -ne 0 ]; then
    sed 's/^/   /' "$work/users.err" >&2
    return 1
  fi
}

failed=0
for s in "${servers[@]}"; do
  work=$(mktemp -d "$root/target/matrix/run/$s.XXXXXX")
  # errexit holds inside the subshell only if it is not tested by an if: take its status apart.
  set +e
  (set -e; run_server "$s" "$work")
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    if ! grep -q "server=$s " "$results"; then
      line="MATRIX server=$s version=${version[$s]} war=${flavour[$s]} result=FAIL users=$users requests=0 sessions_lost=? (did not start: logs in $work)"
      echo "$line"; echo "$line" >>"$results"
      for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
    fi
  elif ! $keep; then
    rm -rf "$work"
  fi
done

echo
printf '%-13s %-18s %-7s %-6s %6s %9s %14s %11s\n' server version war result users requests sessions_lost duration_s
while read -r line; do
  get() { echo "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
  printf '%-13s %-18s %-7s %-6s %6s %9s %14s %11s\n' "$(get server)" "$(get version)" "$(get war)" "$(get result)" \
    "$(get users)" "$(get requests)" "$(get sessions_lost)" "$(get duration_s)"
done <"$results"
echo "$(( ${#servers[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
