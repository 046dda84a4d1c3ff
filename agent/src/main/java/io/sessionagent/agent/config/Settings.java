package io.sessionagent.agent.config;

import io.sessionagent.grammar.Durations;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The catalogue of every setting of the agent, in the order the help lists them. This is the
 * single place where a setting's name, default, description and checks are defined; the loader,
 * {@link AgentConfig} and the command-line help all read from it.
 */
public final class Settings {

    public static final Setting<String> CLUSTER_NAME = string("cluster-name", "default",
            "Name of the replication cluster; agents with another name are ignored.",
            "[A-Za-z0-9._-]{1,64}", "1 to 64 of A-Z a-z 0-9 . _ -");

    public static final Setting<String> NODE_NAME = new Setting<>("node-name",
            "string", "", "<hostname>-<grpc-port>",
            "This node's name; the member id is derived from it, so it must be unique in the cluster"
                    + " and stable across restarts.",
            nodeNameParser(), Function.identity());

    public static final Setting<InetAddress> MULTICAST_GROUP = new Setting<>("multicast-group",
            "IPv4 multicast address", "239.255.27.1", "239.255.27.1",
            "Multicast group the agents of the cluster send and listen on.",
            Values.ipv4Multicast(), InetAddress::getHostAddress);

    public static final Setting<Integer> MULTICAST_PORT = integer("multicast-port", 1, 65535, "45588",
            "UDP port of the multicast group.");

    public static final Setting<String> MULTICAST_INTERFACE = string("multicast-interface", "lo",
            "Network interface the group is joined and sent on; the default keeps every packet on this host.",
            "[A-Za-z0-9._:@-]{1,64}", "a network interface name such as lo or eth0");

    public static final Setting<Integer> MULTICAST_TTL = integer("multicast-ttl", 0, 255, "1",
            "Time to live of multicast datagrams: 0 stays on this host, 1 on the local network.");

    public static final Setting<Optional<Integer>> MAX_DATAGRAM_BYTES = new Setting<>("max-datagram-bytes",
            "int 512..65000", "", "<interface MTU - 28, at most 65000>",
            "Largest datagram sent; larger batches are fragmented. Unset: as large as multicast-interface carries"
                    + " without IP fragmentation (its MTU less the IPv4 and UDP headers: 65000 on lo, 1472 on a"
                    + " 1500-byte Ethernet). Keep it below the path MTU when set.",
            Values.optionalIntBetween(512, 65000), v -> v.map(String::valueOf).orElse(""));

    public static final Setting<Long> SOCKET_RECEIVE_BUFFER = size("socket-receive-buffer", "4MiB",
            "Receive buffer asked of the multicast socket (the kernel may cap it).");

    public static final Setting<String> GRPC_ADDRESS = new Setting<>("grpc-address",
            "IP address", "127.0.0.1", "127.0.0.1",
            "Address of the SessionService the local filter calls.",
            Values.ipLiteral(), Function.identity());

    public static final Setting<Integer> GRPC_PORT = integer("grpc-port", 0, 65535, "7400",
            "Port of the SessionService (0 = any free port).");

    public static final Setting<Optional<String>> PEER_ADDRESS = new Setting<>("peer-address",
            "IP address", "", "<interface address>",
            "Address of the PeerService other agents call for state transfer and repair;"
                    + " unset = the first IPv4 address of multicast-interface.",
            Values.optionalIpLiteral(), v -> v.orElse(""));

    public static final Setting<Integer> PEER_PORT = integer("peer-port", 0, 65535, "7401",
            "Port of the PeerService (0 = any free port).");

    public static final Setting<String> METRICS_ADDRESS = new Setting<>("metrics-address",
            "IP address", "127.0.0.1", "127.0.0.1",
            "Address of the HTTP port with /metrics, /health, /ready and the admin endpoints.",
            Values.ipLiteral(), Function.identity());

    public static final Setting<Integer> METRICS_PORT = integer("metrics-port", 0, 65535, "7402",
            "Port of /metrics, /health, /ready and the admin endpoints (0 = any free port).");

    public static final Setting<Duration> HEARTBEAT_INTERVAL = duration("heartbeat-interval", "500ms",
            "How often this agent announces itself to the group.");

    public static final Setting<Duration> FAILURE_TIMEOUT = duration("failure-timeout", "3000ms",
            "Silence after which a member is dropped from the view; more than twice heartbeat-interval.");

    public static final Setting<Duration> JOIN_WAIT = duration("join-wait", "1500ms",
            "How long a starting agent listens for a ready member before it decides it is the first;"
                    + " counted on the clock and in protocol ticks run.");

    public static final Setting<Duration> STATE_TRANSFER_TIMEOUT = duration("state-transfer-timeout", "30s",
            "Longest a joining agent waits for the table from another member.");

    public static final Setting<Duration> NAK_INTERVAL = duration("nak-interval", "50ms",
            "How often an outstanding gap is asked for again.");

    public static final Setting<Integer> RETRANSMIT_BUFFER_FRAMES = integer("retransmit-buffer-frames",
            16, 1_048_576, "16384", "Frames a sender keeps for retransmission.");

    public static final Setting<Long> RETRANSMIT_BUFFER_BYTES = size("retransmit-buffer-bytes", "32MiB",
            "Bytes a sender keeps for retransmission.");

    public static final Setting<Integer> RECEIVE_BUFFER_FRAMES = integer("receive-buffer-frames",
            16, 1_048_576, "16384", "Out-of-order frames a receiver holds per sender while a gap is repaired.");

    public static final Setting<Duration> ANTI_ENTROPY_INTERVAL = new Setting<>("anti-entropy-interval",
            "duration", "60s", "60s",
            "How often the table is compared with another member's and repaired (0 disables the periodic run).",
            Values.duration(true), Durations::format);

    public static final Setting<Duration> ACCESS_FLUSH_INTERVAL = duration("access-flush-interval", "5s",
            "How often coalesced pure accesses are replicated.");

    public static final Setting<Duration> EXPIRY_SCAN_INTERVAL = duration("expiry-scan-interval", "1s",
            "How often expired sessions are looked for.");

    public static final Setting<Duration> TOMBSTONE_TTL = duration("tombstone-ttl", "10m",
            "Shortest time an invalidated session is remembered so a late change cannot revive it; longer"
                    + " while a copy of it elsewhere could still be live.");

    public static final Setting<Integer> MAX_TOMBSTONES = integer("max-tombstones", 1, 100_000_000, "1000000",
            "Most tombstones kept; beyond it the oldest past tombstone-ttl are removed early.");

    public static final Setting<Duration> SYNC_TIMEOUT = duration("sync-timeout", "1000ms",
            "Default upper bound on how long a sync write waits for replicas.");

    public static final Setting<Duration> FAILOVER_READ_WAIT = duration("failover-read-wait", "1s",
            "Longest a session read waits for this agent to apply what it received of the session (right after"
                    + " a member died, its last frames may still be held behind a gap); then it is answered"
                    + " UNAVAILABLE, never with an older version. Capped by the caller's deadline.");

    public static final Setting<Long> MAX_SESSION_BYTES = size("max-session-bytes", "1MiB",
            "Largest session (attribute names and values); larger writes are refused.");

    public static final Setting<Integer> MAX_ATTRIBUTES = integer("max-attributes", 1, 1_000_000, "1024",
            "Most attributes one session may hold.");

    public static final Setting<Integer> MAX_SESSIONS = integer("max-sessions", 1, 100_000_000, "1000000",
            "Most live sessions this agent holds; new sessions beyond it are refused.");

    public static final Setting<Long> MAX_TOTAL_BYTES = size("max-total-bytes", "1GiB",
            "Most bytes held for all sessions together; writes beyond it are refused.");

    public static final Setting<Optional<Path>> CLUSTER_KEY_FILE = new Setting<>("cluster-key-file",
            "file path", "", "<none>",
            "File of cluster keys, one <id>:<base64 AES key> per line, the sending key first; set, every"
                    + " datagram and peer message is sealed with AES-GCM and anything else is refused. The"
                    + " file is read again when it changes.",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<Optional<Path>> PEER_TLS_CERT_FILE = new Setting<>("peer-tls-cert-file",
            "file path", "", "<none>",
            "PEM certificate chain of this agent for the PeerService; with peer-tls-key-file and peer-tls-ca-file,"
                    + " peer calls run over TLS with certificates on both sides (mutual TLS).",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<Optional<Path>> PEER_TLS_KEY_FILE = new Setting<>("peer-tls-key-file",
            "file path", "", "<none>",
            "PEM private key (PKCS#8) of peer-tls-cert-file.",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<Optional<Path>> PEER_TLS_CA_FILE = new Setting<>("peer-tls-ca-file",
            "file path", "", "<none>",
            "PEM certificates of the CA that signs the cluster's agents: a peer whose certificate does not chain"
                    + " to it, or does not name its peer address, is refused.",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<String> REQUIRE_CLUSTER_KEY = new Setting<>("require-cluster-key",
            "auto/true/false", "auto", "auto",
            "Whether the agent refuses to start without cluster-key-file. auto: required unless the multicast"
                    + " interface is a loopback interface and the peer address a loopback address (every packet"
                    + " stays on this host).",
            Values.matching("auto|true|false", "auto, true or false"), Function.identity());

    public static final Setting<Optional<Path>> API_TOKEN_FILE = new Setting<>("api-token-file",
            "file path", "", "<none>",
            "File holding the token (one line of at least 32 characters) that every SessionService call must carry"
                    + " as 'authorization: Bearer <token>' (the filter's agent-token-file names the same file); the"
                    + " CLI reads the same setting. Without it, the SessionService answers whoever reaches"
                    + " grpc-address, which must then be a loopback address.",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<Optional<Path>> ADMIN_TOKEN_FILE = new Setting<>("admin-token-file",
            "file path", "", "<none>",
            "File holding the token (one line of at least 32 characters) that POST /admin/* requests must send as"
                    + " 'Authorization: Bearer <token>'; the CLI reads the same setting. Without it, those requests"
                    + " are refused unless metrics-address is a loopback address.",
            Values.optionalPath(), v -> v.map(Path::toString).orElse(""));

    public static final Setting<Boolean> REPLICATION_ENABLED = new Setting<>("replication-enabled",
            "boolean", "true", "true",
            "Whether this agent replicates; when false it serves its own node only.",
            Values.bool(), String::valueOf);

    // Help order. A setting missing here is invisible to every layer, so keep it complete.
    private static final List<Setting<?>> ALL = List.of(
            CLUSTER_NAME,
            NODE_NAME,
            MULTICAST_GROUP,
            MULTICAST_PORT,
            MULTICAST_INTERFACE,
            MULTICAST_TTL,
            MAX_DATAGRAM_BYTES,
            SOCKET_RECEIVE_BUFFER,
            GRPC_ADDRESS,
            GRPC_PORT,
            PEER_ADDRESS,
            PEER_PORT,
            METRICS_ADDRESS,
            METRICS_PORT,
            HEARTBEAT_INTERVAL,
            FAILURE_TIMEOUT,
            JOIN_WAIT,
            STATE_TRANSFER_TIMEOUT,
            NAK_INTERVAL,
            RETRANSMIT_BUFFER_FRAMES,
            RETRANSMIT_BUFFER_BYTES,
            RECEIVE_BUFFER_FRAMES,
            ANTI_ENTROPY_INTERVAL,
            ACCESS_FLUSH_INTERVAL,
            EXPIRY_SCAN_INTERVAL,
            TOMBSTONE_TTL,
            MAX_TOMBSTONES,
            SYNC_TIMEOUT,
            FAILOVER_READ_WAIT,
            MAX_SESSION_BYTES,
            MAX_ATTRIBUTES,
            MAX_SESSIONS,
            MAX_TOTAL_BYTES,
            CLUSTER_KEY_FILE,
            PEER_TLS_CERT_FILE,
            PEER_TLS_KEY_FILE,
            PEER_TLS_CA_FILE,
            REQUIRE_CLUSTER_KEY,
            API_TOKEN_FILE,
            ADMIN_TOKEN_FILE,
            REPLICATION_ENABLED);
    private static final Map<String, Setting<?>> BY_NAME = byName();

    private Settings() {}

    /** Every setting, in catalogue order. */
    public static List<Setting<?>> all() {
        return ALL;
    }

    /** The setting of that kebab-case name. */
    public static Optional<Setting<?>> find(String name) {
        return Optional.ofNullable(BY_NAME.get(name));
    }

    /** The kebab-case names, in catalogue order. */
    public static List<String> names() {
        return List.copyOf(BY_NAME.keySet());
    }

    private static Map<String, Setting<?>> byName() {
        Map<String, Setting<?>> map = new LinkedHashMap<>();
        for (Setting<?> s : ALL) {
            if (map.put(s.name(), s) != null) {
                throw new IllegalStateException("duplicate setting " + s.name());
            }
        }
        return Collections.unmodifiableMap(map);
    }

    private static Setting<String> string(String name, String dflt, String description,
            String regex, String allowed) {
        return new Setting<>(name, "string", dflt, dflt, description,
                Values.matching(regex, allowed), Function.identity());
    }

    private static Setting<Integer> integer(String name, int min, int max, String dflt, String description) {
        return new Setting<>(name, "int " + min + ".." + max, dflt, dflt, description,
                Values.intBetween(min, max), String::valueOf);
    }

    private static Setting<Duration> duration(String name, String dflt, String description) {
        return new Setting<>(name, "duration", dflt, dflt, description,
                Values.duration(false), Durations::format);
    }

    private static Setting<Long> size(String name, String dflt, String description) {
        return new Setting<>(name, "size", dflt, dflt, description, Values.size(), Sizes::format);
    }

    private static Setting.Parser<String> nodeNameParser() {
        Setting.Parser<String> pattern = Values.matching("[A-Za-z0-9._:-]{1,128}",
                "1 to 128 of A-Z a-z 0-9 . _ : -");
        // Empty means "not set": the name is then computed from the host name and gRPC port.
        return text -> text.isEmpty() ? "" : pattern.parse(text);
    }
}
