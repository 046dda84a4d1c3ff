package io.sessionagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentConfigTest {

    private static ConfigException rejected(Map<String, String> settings) {
        try {
            AgentConfig.fromMap(settings);
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("accepted " + settings);
    }

    private static String onlyProblem(String name, String value) {
        List<String> problems = rejected(Map.of(name, value)).problems();
        assertThat(problems).hasSize(1);
        return problems.get(0);
    }

    @Test
    void defaultsMatchTheCatalogue() throws Exception {
        AgentConfig c = AgentConfig.defaults();
        assertThat(c.clusterName()).isEqualTo("default");
        assertThat(c.multicastGroup()).isEqualTo(InetAddress.getByName("239.255.27.1"));
        assertThat(c.multicastPort()).isEqualTo(45588);
        assertThat(c.multicastInterface()).isEqualTo("lo");
        assertThat(c.multicastTtl()).isEqualTo(1);
        assertThat(c.maxDatagramBytes()).as("sized by the interface's MTU at start").isEmpty();
        assertThat(c.socketReceiveBuffer()).isEqualTo(4L << 20);
        assertThat(c.grpcAddress()).isEqualTo("127.0.0.1");
        assertThat(c.grpcPort()).isEqualTo(7400);
        assertThat(c.peerAddress()).isEmpty();
        assertThat(c.peerPort()).isEqualTo(7401);
        assertThat(c.metricsAddress()).isEqualTo("127.0.0.1");
        assertThat(c.metricsPort()).isEqualTo(7402);
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.failureTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.joinWait()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.stateTransferTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.nakInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(c.retransmitBufferFrames()).isEqualTo(16384);
        assertThat(c.retransmitBufferBytes()).isEqualTo(32L << 20);
        assertThat(c.receiveBufferFrames()).isEqualTo(16384);
        assertThat(c.antiEntropyInterval()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.accessFlushInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.expiryScanInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.tombstoneTtl()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.maxTombstones()).isEqualTo(1_000_000);
        assertThat(c.syncTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.maxSessionBytes()).isEqualTo(1L << 20);
        assertThat(c.maxAttributes()).isEqualTo(1024);
        assertThat(c.maxSessions()).isEqualTo(1_000_000);
        assertThat(c.maxTotalBytes()).isEqualTo(1L << 30);
        assertThat(c.replicationEnabled()).isTrue();
        assertThat(c.sourceOf("grpc-port")).isEqualTo(Source.defaultValue());
    }

    @Test
    void everyDefaultIsValidAndEverySettingHasADescription() {
        for (Setting<?> s : Settings.all()) {
            assertThat(s.name()).matches("[a-z]+(-[a-z]+)*");
            assertThat(s.description()).isNotBlank().doesNotContain("\n");
            assertThat(s.defaultLabel()).isNotBlank();
            assertThat(s.envVariable()).startsWith("SESSION_AGENT_").doesNotContain("-");
            assertThat(s.flag()).isEqualTo("--" + s.name());
        }
        assertThat(Settings.all()).hasSize(41);
        assertThat(AgentConfig.defaults().asMap().keySet()).containsExactlyElementsOf(Settings.names());
    }

    @Test
    void nodeNameDefaultsToHostAndGrpcPort() {
        AgentConfig c = AgentConfig.resolve(Map.of(), List.of(), () -> "web-1");
        assertThat(c.nodeName()).isEqualTo("web-1-7400");
        AgentConfig other = AgentConfig.resolve(
                Map.of("grpc-port", new RawValue("7500", Source.given())), List.of(), () -> "web-1");
        assertThat(other.nodeName()).isEqualTo("web-1-7500");
        assertThat(AgentConfig.defaults().nodeName()).matches("[A-Za-z0-9._:-]{1,128}").endsWith("-7400");
        assertThat(AgentConfig.fromMap(Map.of("node-name", "a:b")).nodeName()).isEqualTo("a:b");
    }

    @Test
    void hostNamesAreReducedToNodeNameCharacters() {
        assertThat(LocalHost.sanitise("my host/x")).isEqualTo("my-host-x");
        assertThat(LocalHost.sanitise("")).isEqualTo("localhost");
        assertThat(LocalHost.sanitise("a".repeat(300))).hasSize(120);
    }

    @Test
    void fromMapOverridesDefaultsAndRecordsTheSource() {
        AgentConfig c = AgentConfig.fromMap(Map.of(
                "cluster-name", "shop",
                "heartbeat-interval", "1s",
                "failure-timeout", "5s",
                "max-total-bytes", "2GiB",
                "replication-enabled", "false",
                "peer-address", "10.0.0.7",
                "multicast-group", "224.0.0.251"));
        assertThat(c.clusterName()).isEqualTo("shop");
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.failureTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.maxTotalBytes()).isEqualTo(2L << 30);
        assertThat(c.replicationEnabled()).isFalse();
        assertThat(c.peerAddress()).contains("10.0.0.7");
        assertThat(c.multicastGroup().getHostAddress()).isEqualTo("224.0.0.251");
        assertThat(c.sourceOf("cluster-name")).isEqualTo(Source.given());
        assertThat(c.sourceOf("grpc-port")).isEqualTo(Source.defaultValue());
    }

    @Test
    void withReturnsAChangedCopy() {
        AgentConfig base = AgentConfig.defaults();
        AgentConfig changed = base.with("grpc-port", "0").with("multicast-ttl", "0");
        assertThat(changed.grpcPort()).isZero();
        assertThat(changed.multicastTtl()).isZero();
        assertThat(base.grpcPort()).isEqualTo(7400);
        assertThat(changed.with(Map.of()).asMap()).isEqualTo(changed.asMap());
        assertThat(changed).isEqualTo(AgentConfig.fromMap(Map.of("grpc-port", "0", "multicast-ttl", "0")));
    }

    @Test
    void asMapFormatsEffectiveValuesInTheirOwnSyntax() {
        Map<String, String> m = AgentConfig.fromMap(Map.of(
                "failure-timeout", "3600000", "socket-receive-buffer", "65536", "node-name", "n1")).asMap();
        assertThat(m).containsEntry("failure-timeout", "1h")
                .containsEntry("socket-receive-buffer", "64KiB")
                .containsEntry("heartbeat-interval", "500ms")
                .containsEntry("multicast-group", "239.255.27.1")
                .containsEntry("peer-address", "")
                .containsEntry("node-name", "n1")
                .containsEntry("replication-enabled", "true");
        assertThatThrownBy(() -> m.put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void anEmptyPeerAddressMeansUnset() {
        assertThat(AgentConfig.fromMap(Map.of("peer-address", "")).peerAddress()).isEqualTo(Optional.empty());
        assertThat(AgentConfig.fromMap(Map.of("peer-address", "::1")).peerAddress()).contains("::1");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "multicast-port | 70000 | multicast-port: 70000 (given in code) must be between 1 and 65535",
        "multicast-port | 0 | multicast-port: 0 (given in code) must be between 1 and 65535",
        "multicast-port | http | multicast-port: http (given in code) must be a whole number between 1 and 65535",
        "grpc-port | -1 | grpc-port: -1 (given in code) must be between 0 and 65535",
        "peer-port | 65536 | peer-port: 65536 (given in code) must be between 0 and 65535",
        "metrics-port | 65536 | metrics-port: 65536 (given in code) must be between 0 and 65535",
        "multicast-ttl | 256 | multicast-ttl: 256 (given in code) must be between 0 and 255",
        "max-datagram-bytes | 511 | max-datagram-bytes: 511 (given in code) must be between 512 and 65000",
        "max-datagram-bytes | 65001 | max-datagram-bytes: 65001 (given in code) must be between 512 and 65000",
        "retransmit-buffer-frames | 15 | retransmit-buffer-frames: 15 (given in code) must be between 16 and 1048576",
        "receive-buffer-frames | 2000000 | receive-buffer-frames: 2000000 (given in code) must be between 16 and 1048576",
        "max-attributes | 0 | max-attributes: 0 (given in code) must be between 1 and 1000000",
        "max-sessions | 100000001 | max-sessions: 100000001 (given in code) must be between 1 and 100000000",
        "cluster-name | a b | cluster-name: \"a b\" (given in code) must be 1 to 64 of A-Z a-z 0-9 . _ -",
        "node-name | web/1 | node-name: web/1 (given in code) must be 1 to 128 of A-Z a-z 0-9 . _ : -",
        "multicast-interface | eth 0 | multicast-interface: \"eth 0\" (given in code) must be a network interface name such as lo or eth0",
        "multicast-group | 10.0.0.1 | multicast-group: 10.0.0.1 (given in code) must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)",
        "multicast-group | 240.0.0.1 | multicast-group: 240.0.0.1 (given in code) must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)",
        "multicast-group | ff02::1 | multicast-group: ff02::1 (given in code) must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)",
        "multicast-group | 239.256.0.1 | multicast-group: 239.256.0.1 (given in code) must be an IPv4 multicast address (224.0.0.0 to 239.255.255.255)",
        "grpc-address | localhost | grpc-address: localhost (given in code) must be an IP address literal such as 127.0.0.1 or ::1 (host names are not resolved)",
        "metrics-address | localhost | metrics-address: localhost (given in code) must be an IP address literal such as 127.0.0.1 or ::1 (host names are not resolved)",
        "peer-address | 10.0.0 | peer-address: 10.0.0 (given in code) must be an IP address literal such as 127.0.0.1 or ::1 (host names are not resolved)",
        "peer-address | gg::1 | peer-address: gg::1 (given in code) must be an IP address literal such as 127.0.0.1 or ::1 (host names are not resolved)",
        "heartbeat-interval | 0 | heartbeat-interval: 0 (given in code) must be greater than 0",
        "nak-interval | 5x | nak-interval: 5x (given in code) must be a duration such as 500ms, 3s, 10m or 1h (a bare number means milliseconds)",
        "tombstone-ttl | 0s | tombstone-ttl: 0s (given in code) must be greater than 0",
        "socket-receive-buffer | 4MB | socket-receive-buffer: 4MB (given in code) must be a size such as 1400, 64KiB, 1MiB or 1GiB (a bare number means bytes); unit MB is not supported, use KiB, MiB or GiB",
        "max-session-bytes | 0 | max-session-bytes: 0 (given in code) must be greater than 0",
        "replication-enabled | yes | replication-enabled: yes (given in code) must be true or false",
        "grpc-port | '' | grpc-port: \"\" (given in code) must be a whole number between 0 and 65535",
    })
    void reportsEachInvalidValueWithNameValueSourceAndWhatIsAllowed(String name, String value, String message) {
        assertThat(onlyProblem(name, value)).isEqualTo(message);
    }

    @Test
    void antiEntropyMayBeDisabledWithZero() {
        assertThat(AgentConfig.fromMap(Map.of("anti-entropy-interval", "0")).antiEntropyInterval()).isZero();
    }

    @Test
    void failureTimeoutMustExceedTwiceTheHeartbeat() {
        String problem = onlyProblem("heartbeat-interval", "1500ms");
        assertThat(problem).isEqualTo("failure-timeout: 3s (default) must be more than twice heartbeat-interval"
                + " 1500ms (given in code), so that one lost heartbeat does not drop a member");
        assertThat(AgentConfig.fromMap(Map.of("heartbeat-interval", "1499ms")).failureTimeout())
                .isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void aSessionMayNotBeLargerThanTheWholeTable() {
        assertThat(onlyProblem("max-total-bytes", "512KiB")).isEqualTo(
                "max-session-bytes: 1MiB (default) must not exceed max-total-bytes 512KiB (given in code)");
    }

    @Test
    void unknownNamesAreRejectedWithASuggestion() {
        assertThat(onlyProblem("heartbeat-intervall", "1s"))
                .isEqualTo("unknown setting heartbeat-intervall (did you mean heartbeat-interval?)");
    }

    @Test
    void everyProblemIsReportedTogetherOnItsOwnLine() {
        Map<String, String> bad = new HashMap<>();
        bad.put("multicast-port", "70000");
        bad.put("multicast-group", "10.1.1.1");
        bad.put("grpc-adress", "127.0.0.1");
        bad.put("sync-timeout", "soon");
        ConfigException e = rejected(bad);
        assertThat(e.problems()).hasSize(4);
        assertThat(e.getMessage().split("\n")).hasSize(5);
        assertThat(e.getMessage()).startsWith("invalid configuration (4 problems):\n  ")
                .contains("\n  multicast-port: 70000")
                .contains("\n  multicast-group: 10.1.1.1")
                .contains("\n  unknown setting grpc-adress (did you mean grpc-address?)")
                .contains("\n  sync-timeout: soon");
    }
}
