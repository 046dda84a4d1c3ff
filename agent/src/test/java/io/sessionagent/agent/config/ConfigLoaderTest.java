package io.sessionagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path file = dir.resolve("agent.yaml");
        Files.writeString(file, text);
        return file;
    }

    private static ConfigLoader.Loaded load(Map<String, String> env, String... args) {
        return ConfigLoader.load(args, env);
    }

    private static List<String> problems(Map<String, String> env, String... args) {
        try {
            ConfigLoader.load(args, env);
        } catch (ConfigException e) {
            return e.problems();
        }
        throw new AssertionError("accepted");
    }

    @Test
    void withNothingGivenEverySettingIsAtItsDefault() {
        ConfigLoader.Loaded loaded = load(Map.of());
        assertThat(loaded.config().asMap()).isEqualTo(AgentConfig.defaults().asMap());
        assertThat(loaded.arguments()).isEmpty();
        assertThat(loaded.configFile()).isEmpty();
    }

    @Test
    void laterLayersWinDefaultsFileEnvFlags() throws IOException {
        Path file = yaml("""
                cluster-name: from-file
                multicast-port: 40001
                grpc-port: 40002
                peer-port: 40003
                """);
        Map<String, String> env = Map.of(
                "SESSION_AGENT_CONFIG", file.toString(),
                "SESSION_AGENT_GRPC_PORT", "50002",
                "SESSION_AGENT_PEER_PORT", "50003");
        AgentConfig c = load(env, "--peer-port", "60003").config();

        assertThat(c.multicastTtl()).isEqualTo(1);
        assertThat(c.sourceOf("multicast-ttl")).isEqualTo(Source.defaultValue());
        assertThat(c.clusterName()).isEqualTo("from-file");
        assertThat(c.multicastPort()).isEqualTo(40001);
        assertThat(c.sourceOf("multicast-port")).isEqualTo(Source.file(file.toString()));
        assertThat(c.grpcPort()).isEqualTo(50002);
        assertThat(c.sourceOf("grpc-port")).isEqualTo(Source.env("SESSION_AGENT_GRPC_PORT"));
        assertThat(c.peerPort()).isEqualTo(60003);
        assertThat(c.sourceOf("peer-port")).isEqualTo(Source.flag("--peer-port"));
    }

    @Test
    void theConfigFlagWinsOverTheConfigVariable() throws IOException {
        Path fromEnv = yaml("cluster-name: env-file\n");
        Path fromFlag = dir.resolve("other.yml");
        Files.writeString(fromFlag, "cluster-name: flag-file\n");
        Map<String, String> env = Map.of("SESSION_AGENT_CONFIG", fromEnv.toString());

        assertThat(load(env).config().clusterName()).isEqualTo("env-file");
        ConfigLoader.Loaded loaded = load(env, "--config", fromFlag.toString());
        assertThat(loaded.config().clusterName()).isEqualTo("flag-file");
        assertThat(loaded.configFile()).contains(fromFlag);
        assertThat(load(env, "--config=" + fromFlag).config().clusterName()).isEqualTo("flag-file");
    }

    @Test
    void yamlScalarsOfEveryKindAreAccepted() throws IOException {
        Path file = yaml("""
                # comments are fine
                multicast-group: 239.1.2.3
                max-datagram-bytes: 9000
                replication-enabled: false
                heartbeat-interval: 250ms
                failure-timeout: 2000
                socket-receive-buffer: 8MiB
                peer-address:
                node-name: "node-7"
                """);
        AgentConfig c = load(Map.of(), "--config", file.toString()).config();
        assertThat(c.multicastGroup().getHostAddress()).isEqualTo("239.1.2.3");
        assertThat(c.maxDatagramBytes()).contains(9000);
        assertThat(c.replicationEnabled()).isFalse();
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.failureTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.socketReceiveBuffer()).isEqualTo(8L << 20);
        assertThat(c.peerAddress()).isEmpty();
        assertThat(c.nodeName()).isEqualTo("node-7");
    }

    @Test
    void anEmptyFileSetsNothing() throws IOException {
        Path file = yaml("# nothing yet\n");
        assertThat(load(Map.of(), "--config", file.toString()).config().asMap())
                .isEqualTo(AgentConfig.defaults().asMap());
    }

    @Test
    void fileProblemsNameTheFile() throws IOException {
        Path file = yaml("""
                multicast-port: 70000
                heartbeat_interval: 1s
                retransmit:
                  frames: 10
                """);
        assertThat(problems(Map.of(), "--config", file.toString())).containsExactlyInAnyOrder(
                "config file " + file + ": unknown setting heartbeat_interval (did you mean heartbeat-interval?)",
                "config file " + file + ": retransmit must be a single value, not a map"
                        + " (the file is a flat map of setting names)",
                "multicast-port: 70000 (from file " + file + ") must be between 1 and 65535");
    }

    @Test
    void aMissingOrMalformedFileIsReported() throws IOException {
        Path missing = dir.resolve("nope.yaml");
        assertThat(problems(Map.of(), "--config", missing.toString()))
                .containsExactly("config file " + missing + ": not found");

        Path list = yaml("- a\n- b\n");
        assertThat(problems(Map.of(), "--config", list.toString())).containsExactly(
                "config file " + list + ": must be a map of setting names to values, not a list");

        Path broken = yaml("cluster-name: [unclosed\n");
        assertThat(problems(Map.of(), "--config", broken.toString())).singleElement()
                .asString().startsWith("config file " + broken + ": not valid YAML:");

        Path twice = yaml("grpc-port: 1\ngrpc-port: 2\n");
        assertThat(problems(Map.of(), "--config", twice.toString())).singleElement()
                .asString().contains("not valid YAML").contains("grpc-port");
    }

    @Test
    void environmentVariablesUseUpperSnakeNames() {
        Map<String, String> env = Map.of(
                "SESSION_AGENT_CLUSTER_NAME", "prod",
                "SESSION_AGENT_HEARTBEAT_INTERVAL", "1s",
                "SESSION_AGENT_FAILURE_TIMEOUT", "10s",
                "SESSION_AGENT_REPLICATION_ENABLED", "false",
                "PATH", "/usr/bin",
                "HOME", "/root");
        AgentConfig c = load(env).config();
        assertThat(c.clusterName()).isEqualTo("prod");
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.failureTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.replicationEnabled()).isFalse();
    }

    @Test
    void unknownSessionAgentVariablesAreErrorsWithASuggestion() {
        Map<String, String> env = new HashMap<>();
        env.put("SESSION_AGENT_GRPC_PROT", "1");
        env.put("SESSION_AGENT_grpc_port", "1");
        env.put("SESSION_AGENT_CONFIG", "");
        assertThat(problems(env)).containsExactly(
                "unknown environment variable SESSION_AGENT_GRPC_PROT (did you mean SESSION_AGENT_GRPC_PORT?)",
                "unknown environment variable SESSION_AGENT_grpc_port (did you mean SESSION_AGENT_GRPC_PORT?)");
    }

    @Test
    void environmentErrorsNameTheVariable() {
        assertThat(problems(Map.of("SESSION_AGENT_MULTICAST_PORT", "70000"))).containsExactly(
                "multicast-port: 70000 (from env SESSION_AGENT_MULTICAST_PORT) must be between 1 and 65535");
    }

    @Test
    void flagsTakeTheirValueInlineOrAsTheNextArgument() {
        AgentConfig c = load(Map.of(), "--grpc-port=0", "--cluster-name", "c1", "--join-wait", "2s").config();
        assertThat(c.grpcPort()).isZero();
        assertThat(c.clusterName()).isEqualTo("c1");
        assertThat(c.joinWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(problems(Map.of(), "--cluster-name=")).containsExactly(
                "cluster-name: \"\" (from flag --cluster-name) must be 1 to 64 of A-Z a-z 0-9 . _ -");
    }

    @Test
    void theLastOfARepeatedFlagWins() {
        assertThat(load(Map.of(), "--grpc-port", "1", "--grpc-port=2").config().grpcPort()).isEqualTo(2);
    }

    @Test
    void aBooleanFlagAloneMeansTrue() {
        Map<String, String> env = Map.of("SESSION_AGENT_REPLICATION_ENABLED", "false");
        assertThat(load(env, "--replication-enabled").config().replicationEnabled()).isTrue();
        assertThat(load(env, "--replication-enabled", "--grpc-port", "1").config().replicationEnabled()).isTrue();
        assertThat(load(Map.of(), "--replication-enabled", "false").config().replicationEnabled()).isFalse();
        assertThat(load(Map.of(), "--replication-enabled=false").config().replicationEnabled()).isFalse();
        ConfigLoader.Loaded loaded = load(Map.of(), "--replication-enabled", "extra");
        assertThat(loaded.config().replicationEnabled()).isTrue();
        assertThat(loaded.arguments()).containsExactly("extra");
    }

    @Test
    void positionalArgumentsAreReturned() {
        ConfigLoader.Loaded loaded = load(Map.of(), "run", "--grpc-port", "1", "x", "--", "--not-a-flag");
        assertThat(loaded.arguments()).containsExactly("run", "x", "--not-a-flag");
        assertThat(loaded.config().grpcPort()).isEqualTo(1);
    }

    @Test
    void flagErrorsNameTheFlag() {
        assertThat(problems(Map.of(), "--multicast-port", "70000")).containsExactly(
                "multicast-port: 70000 (from flag --multicast-port) must be between 1 and 65535");
    }

    @Test
    void unknownFlagsAreErrorsWithASuggestion() {
        assertThat(problems(Map.of(), "--grpc-prot", "1", "--heartbeat_interval=1s", "-p", "--zzz")).containsExactly(
                "unknown flag --grpc-prot (did you mean --grpc-port?)",
                "unknown flag --heartbeat_interval (did you mean --heartbeat-interval?)",
                "unknown option -p",
                "unknown flag --zzz");
    }

    @Test
    void aFlagWithoutItsValueIsAnError() {
        assertThat(problems(Map.of(), "--grpc-port")).containsExactly(
                "--grpc-port: missing value (use --grpc-port=VALUE or --grpc-port VALUE)");
        assertThat(problems(Map.of(), "--config", "--grpc-port", "1")).containsExactly(
                "--config: missing value (use --config=VALUE or --config VALUE)");
    }

    @Test
    void problemsFromEveryLayerAreReportedTogether() throws IOException {
        Path file = yaml("multicast-ttl: 300\n");
        Map<String, String> env = Map.of(
                "SESSION_AGENT_CONFIG", file.toString(),
                "SESSION_AGENT_NAK_INTERVAL", "fast");
        assertThatThrownBy(() -> load(env, "--peer-address", "peer.example", "--max-sesions", "5"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).containsExactly(
                        "unknown flag --max-sesions (did you mean --max-sessions?)",
                        "multicast-ttl: 300 (from file " + file + ") must be between 0 and 255",
                        "peer-address: peer.example (from flag --peer-address) must be an IP address literal"
                                + " such as 127.0.0.1 or ::1 (host names are not resolved)",
                        "nak-interval: fast (from env SESSION_AGENT_NAK_INTERVAL) must be a duration such as"
                                + " 500ms, 3s, 10m or 1h (a bare number means milliseconds)"));
    }

    @Test
    void crossChecksNameTheSourcesOfBothSettings() {
        assertThat(problems(Map.of("SESSION_AGENT_HEARTBEAT_INTERVAL", "2s"), "--failure-timeout", "4s"))
                .containsExactly("failure-timeout: 4s (from flag --failure-timeout) must be more than twice"
                        + " heartbeat-interval 2s (from env SESSION_AGENT_HEARTBEAT_INTERVAL), so that one lost"
                        + " heartbeat does not drop a member");
    }
}
