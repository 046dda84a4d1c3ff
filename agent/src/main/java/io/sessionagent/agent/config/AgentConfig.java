package io.sessionagent.agent.config;

import io.sessionagent.grammar.Durations;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The agent's effective configuration: every setting of the {@link Settings} catalogue, parsed,
 * checked and immutable. Obtained from {@link ConfigLoader#load} in production, or from
 * {@link #fromMap} in tests.
 */
public final class AgentConfig {

    private final Map<String, RawValue> explicit;
    private final Map<String, Object> values;
    private final Map<String, Source> sources;

    private AgentConfig(Map<String, RawValue> explicit, Map<String, Object> values, Map<String, Source> sources) {
        this.explicit = Collections.unmodifiableMap(new LinkedHashMap<>(explicit));
        this.values = Collections.unmodifiableMap(values);
        this.sources = Collections.unmodifiableMap(sources);
    }

    /** Every setting at its default. */
    public static AgentConfig defaults() {
        return fromMap(Map.of());
    }

    /**
     * The defaults overridden by the given kebab-case names and textual values, with no file or
     * environment involved.
     *
     * @throws ConfigException listing every unknown name and invalid value
     */
    public static AgentConfig fromMap(Map<String, String> settings) {
        return new AgentConfig(Map.of(), Map.of(), Map.of()).with(settings);
    }

    /** A copy with one more setting overridden. */
    public AgentConfig with(String name, String value) {
        return with(Map.of(name, value));
    }

    /**
     * A copy with more settings overridden.
     *
     * @throws ConfigException listing every unknown name and invalid value
     */
    public AgentConfig with(Map<String, String> settings) {
        Map<String, RawValue> merged = new LinkedHashMap<>(explicit);
        List<String> problems = new ArrayList<>();
        settings.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (Settings.find(e.getKey()).isEmpty()) {
                problems.add("unknown setting " + e.getKey() + Names.hint(e.getKey(), Settings.names(), "", false));
            } else {
                merged.put(e.getKey(), new RawValue(String.valueOf(e.getValue()), Source.given()));
            }
        });
        return resolve(merged, problems, LocalHost::name);
    }

    /**
     * Parses every setting, taking the explicit value when there is one and the default
     * otherwise, then runs the checks that involve several settings.
     *
     * @param explicit values set by a layer above the defaults, by setting name
     * @param problems problems already found (unknown names), reported together with the rest
     * @param hostName supplies the host name for the computed node-name
     * @throws ConfigException when there is any problem
     */
    static AgentConfig resolve(Map<String, RawValue> explicit, List<String> problems, Supplier<String> hostName) {
        List<String> all = new ArrayList<>(problems);
        Map<String, Object> values = new HashMap<>();
        Map<String, Source> sources = new HashMap<>();
        for (Setting<?> s : Settings.all()) {
            RawValue raw = explicit.getOrDefault(s.name(), new RawValue(s.defaultValue(), Source.defaultValue()));
            sources.put(s.name(), raw.source());
            try {
                values.put(s.name(), s.parse(raw.text()));
            } catch (InvalidValueException e) {
                all.add(problem(s.name(), raw, e.getMessage()));
            }
        }
        checkAcross(values, sources, all);
        if (!all.isEmpty()) {
            throw new ConfigException(all);
        }
        if (((String) values.get(Settings.NODE_NAME.name())).isEmpty()) {
            values.put(Settings.NODE_NAME.name(), hostName.get() + "-" + values.get(Settings.GRPC_PORT.name()));
        }
        return new AgentConfig(explicit, values, sources);
    }

    private static void checkAcross(Map<String, Object> values, Map<String, Source> sources,
            List<String> problems) {
        Duration heartbeat = (Duration) values.get(Settings.HEARTBEAT_INTERVAL.name());
        Duration failure = (Duration) values.get(Settings.FAILURE_TIMEOUT.name());
        if (heartbeat != null && failure != null && failure.compareTo(heartbeat.multipliedBy(2)) <= 0) {
            problems.add(Settings.FAILURE_TIMEOUT.name() + ": " + Durations.format(failure)
                    + " (" + sources.get(Settings.FAILURE_TIMEOUT.name()) + ") must be more than twice "
                    + Settings.HEARTBEAT_INTERVAL.name() + " " + Durations.format(heartbeat)
                    + " (" + sources.get(Settings.HEARTBEAT_INTERVAL.name()) + "), so that one lost"
                    + " heartbeat does not drop a member");
        }
        Long session = (Long) values.get(Settings.MAX_SESSION_BYTES.name());
        Long total = (Long) values.get(Settings.MAX_TOTAL_BYTES.name());
        if (session != null && total != null && session > total) {
            problems.add(Settings.MAX_SESSION_BYTES.name() + ": " + Sizes.format(session)
                    + " (" + sources.get(Settings.MAX_SESSION_BYTES.name()) + ") must not exceed "
                    + Settings.MAX_TOTAL_BYTES.name() + " " + Sizes.format(total)
                    + " (" + sources.get(Settings.MAX_TOTAL_BYTES.name()) + ")");
        }
    }

    static String problem(String name, RawValue raw, String mustClause) {
        return name + ": " + show(raw.text()) + " (" + raw.source() + ") " + mustClause;
    }

    private static String show(String text) {
        return text.isEmpty() || !text.strip().equals(text) || text.contains(" ") ? '"' + text + '"' : text;
    }

    /** The effective value of every setting, formatted in its own syntax, in catalogue order. */
    public Map<String, String> asMap() {
        Map<String, String> map = new LinkedHashMap<>();
        for (Setting<?> s : Settings.all()) {
            map.put(s.name(), s.format(values.get(s.name())));
        }
        return Collections.unmodifiableMap(map);
    }

    /** Where the effective value of a setting came from. */
    public Source sourceOf(String name) {
        Source source = sources.get(name);
        if (source == null) {
            throw new IllegalArgumentException("unknown setting " + name);
        }
        return source;
    }

    /** The effective value of a setting of the catalogue. */
    public <T> T get(Setting<T> setting) {
        @SuppressWarnings("unchecked")
        T value = (T) values.get(setting.name());
        return value;
    }

    public String clusterName() {
        return get(Settings.CLUSTER_NAME);
    }

    /** The configured node name, or {@code <hostname>-<grpc-port>} when none was set. */
    public String nodeName() {
        return get(Settings.NODE_NAME);
    }

    public InetAddress multicastGroup() {
        return get(Settings.MULTICAST_GROUP);
    }

    public int multicastPort() {
        return get(Settings.MULTICAST_PORT);
    }

    public String multicastInterface() {
        return get(Settings.MULTICAST_INTERFACE);
    }

    public int multicastTtl() {
        return get(Settings.MULTICAST_TTL);
    }

    /** Empty when unset: the agent then sizes datagrams by the interface's MTU. */
    public Optional<Integer> maxDatagramBytes() {
        return get(Settings.MAX_DATAGRAM_BYTES);
    }

    public long socketReceiveBuffer() {
        return get(Settings.SOCKET_RECEIVE_BUFFER);
    }

    public String grpcAddress() {
        return get(Settings.GRPC_ADDRESS);
    }

    public int grpcPort() {
        return get(Settings.GRPC_PORT);
    }

    public String metricsAddress() {
        return get(Settings.METRICS_ADDRESS);
    }

    public int metricsPort() {
        return get(Settings.METRICS_PORT);
    }

    /**
     * The configured peer address, an IP literal; empty when unset, in which case the caller uses
     * the first IPv4 address of {@link #multicastInterface()}.
     */
    public Optional<String> peerAddress() {
        return get(Settings.PEER_ADDRESS);
    }

    /** The key file; empty when the cluster runs without a key. */
    public Optional<Path> clusterKeyFile() {
        return get(Settings.CLUSTER_KEY_FILE);
    }

    public Optional<Path> peerTlsCertFile() {
        return get(Settings.PEER_TLS_CERT_FILE);
    }

    public Optional<Path> peerTlsKeyFile() {
        return get(Settings.PEER_TLS_KEY_FILE);
    }

    public Optional<Path> peerTlsCaFile() {
        return get(Settings.PEER_TLS_CA_FILE);
    }

    /** The SessionService token's file; empty when none is set. */
    public Optional<Path> apiTokenFile() {
        return get(Settings.API_TOKEN_FILE);
    }

    /** The admin token's file; empty when none is set. */
    public Optional<Path> adminTokenFile() {
        return get(Settings.ADMIN_TOKEN_FILE);
    }

    /** {@code auto}, {@code true} or {@code false}; see {@link Settings#REQUIRE_CLUSTER_KEY}. */
    public String requireClusterKey() {
        return get(Settings.REQUIRE_CLUSTER_KEY);
    }

    public int peerPort() {
        return get(Settings.PEER_PORT);
    }

    public Duration heartbeatInterval() {
        return get(Settings.HEARTBEAT_INTERVAL);
    }

    public Duration failureTimeout() {
        return get(Settings.FAILURE_TIMEOUT);
    }

    public Duration joinWait() {
        return get(Settings.JOIN_WAIT);
    }

    public Duration stateTransferTimeout() {
        return get(Settings.STATE_TRANSFER_TIMEOUT);
    }

    public Duration nakInterval() {
        return get(Settings.NAK_INTERVAL);
    }

    public int retransmitBufferFrames() {
        return get(Settings.RETRANSMIT_BUFFER_FRAMES);
    }

    public long retransmitBufferBytes() {
        return get(Settings.RETRANSMIT_BUFFER_BYTES);
    }

    public int receiveBufferFrames() {
        return get(Settings.RECEIVE_BUFFER_FRAMES);
    }

    /** Zero when periodic anti-entropy is disabled. */
    public Duration antiEntropyInterval() {
        return get(Settings.ANTI_ENTROPY_INTERVAL);
    }

    public Duration accessFlushInterval() {
        return get(Settings.ACCESS_FLUSH_INTERVAL);
    }

    public Duration expiryScanInterval() {
        return get(Settings.EXPIRY_SCAN_INTERVAL);
    }

    public Duration tombstoneTtl() {
        return get(Settings.TOMBSTONE_TTL);
    }

    public int maxTombstones() {
        return get(Settings.MAX_TOMBSTONES);
    }

    public Duration syncTimeout() {
        return get(Settings.SYNC_TIMEOUT);
    }

    public Duration failoverReadWait() {
        return get(Settings.FAILOVER_READ_WAIT);
    }

    public long maxSessionBytes() {
        return get(Settings.MAX_SESSION_BYTES);
    }

    public int maxAttributes() {
        return get(Settings.MAX_ATTRIBUTES);
    }

    public int maxSessions() {
        return get(Settings.MAX_SESSIONS);
    }

    public long maxTotalBytes() {
        return get(Settings.MAX_TOTAL_BYTES);
    }

    public boolean replicationEnabled() {
        return get(Settings.REPLICATION_ENABLED);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentConfig other && asMap().equals(other.asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    @Override
    public String toString() {
        return "AgentConfig" + asMap();
    }
}
