package io.sessionagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The options of {@code run} are the settings catalogue, and parsing them changes nothing about
 * how settings are merged: flags over environment over the YAML file over defaults.
 */
class RunOptionsTest {
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final AtomicReference<AgentConfig> started = new AtomicReference<>();

    @TempDir
    Path dir;

    private CommandSpec runSpec() {
        CommandLine top = Cli.commandLine(new Console(out, err, Map.of()), config -> Cli.OK);
        return top.getSubcommands().get("run").getCommandSpec();
    }

    private int run(Map<String, String> env, String... args) {
        return Cli.run(args, out, err, env, config -> {
            started.set(config);
            return Cli.OK;
        });
    }

    @Test
    void everySettingIsAnOptionOfRunWithItsDescriptionAndDefault() {
        CommandSpec run = runSpec();
        for (Setting<?> s : Settings.all()) {
            OptionSpec option = run.findOption(s.flag());
            assertThat(option).as(s.name()).isNotNull();
            assertThat(option.hidden()).as(s.name()).isFalse();
            assertThat(option.description()).as(s.name())
                    .containsExactly(SettingOptions.literal(s.description()),
                            SettingOptions.DEFAULT_PREFIX + SettingOptions.literal(s.defaultLabel()));
            assertThat(option.paramLabel()).as(s.name()).contains(s.type().equals("boolean") ? "true" : s.type());
        }
        List<String> settingFlags = Settings.all().stream().map(Setting::flag).collect(Collectors.toList());
        List<String> others = new ArrayList<>();
        for (OptionSpec option : run.options()) {
            if (!settingFlags.contains(option.longestName())) {
                others.add(option.longestName());
            }
        }
        assertThat(others).as("options of run that are not settings").containsExactlyInAnyOrder("--help", "--config");
    }

    @Test
    void theHelpShowsEveryOptionOfRunInTheOrderOfTheCatalogue() {
        assertThat(run(Map.of(), "--help")).isZero();
        String help = outBytes.toString(StandardCharsets.UTF_8);
        String folded = help.replaceAll("\\s+", " ");
        int last = -1;
        for (Setting<?> s : Settings.all()) {
            // A boolean's value is optional: --replication-enabled[=true|false].
            String name = s.flag() + (s.type().equals("boolean") ? "[=" : "=");
            int at = folded.indexOf(name);
            assertThat(at).as(s.name()).isGreaterThan(last);
            String entry = folded.substring(at);
            assertThat(entry).as(s.name()).contains(s.description().replaceAll("\\s+", " ")
                    + " " + SettingOptions.DEFAULT_PREFIX + s.defaultLabel());
            last = at;
        }
    }

    @Test
    void flagsWinOverTheEnvironmentWhichWinsOverTheFileAndDefaultsStayDefaults() throws IOException {
        Path yaml = dir.resolve("agent.yaml");
        Files.writeString(yaml, "grpc-port: 7100\nmetrics-port: 7101\ncluster-name: fromfile\n");
        assertThat(run(Map.of("SESSION_AGENT_METRICS_PORT", "7201", "SESSION_AGENT_CLUSTER_NAME", "fromenv"),
                "--config", yaml.toString(), "--cluster-name=fromflag", "--replication-enabled")).isZero();
        AgentConfig config = started.get();
        assertThat(config.grpcPort()).isEqualTo(7100);
        assertThat(config.sourceOf("grpc-port").toString()).contains("agent.yaml");
        assertThat(config.metricsPort()).isEqualTo(7201);
        assertThat(config.sourceOf("metrics-port").toString()).contains("SESSION_AGENT_METRICS_PORT");
        assertThat(config.clusterName()).isEqualTo("fromflag");
        assertThat(config.sourceOf("cluster-name").toString()).contains("--cluster-name");
        assertThat(config.replicationEnabled()).isTrue();
        assertThat(config.sourceOf("peer-port").toString()).isEqualTo("default");
        assertThat(errBytes.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aSettingGivenTwiceTakesTheLastValueInEitherForm() {
        assertThat(run(Map.of(), "run", "--grpc-port", "7300", "--grpc-port=7301", "--replication-enabled", "false"))
                .isZero();
        assertThat(started.get().grpcPort()).isEqualTo(7301);
        assertThat(started.get().replicationEnabled()).isFalse();
    }

    @Test
    void aBadValueKeepsTheLoadersMessage() {
        assertThat(run(Map.of(), "--grpc-port=70000", "--heartbeat-interval", "soon")).isEqualTo(Cli.USAGE);
        assertThat(errBytes.toString(StandardCharsets.UTF_8))
                .contains("grpc-port: 70000 (from flag --grpc-port) must be between 0 and 65535")
                .contains("heartbeat-interval: soon (from flag --heartbeat-interval)");
        assertThat(started.get()).isNull();
        errBytes.reset();
        assertThat(run(Map.of(), "run", "--grpc-port")).isEqualTo(Cli.USAGE);
        assertThat(errBytes.toString(StandardCharsets.UTF_8))
                .contains("--grpc-port: missing value (use --grpc-port=VALUE or --grpc-port VALUE)");
    }
}
