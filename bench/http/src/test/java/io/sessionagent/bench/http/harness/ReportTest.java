package io.sessionagent.bench.http.harness;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ReportTest {
    @TempDir
    Path dir;

    @Test
    void replacesOnlyTheSectionBetweenTheMarkers() throws Exception {
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "intro\n" + Report.BEGIN + "\nfirst\n" + Report.END + "\noutro\n");
        Report.intoReadme(readme, "second\n");
        assertThat(Files.readString(readme)).isEqualTo("intro\n" + Report.BEGIN + "\nsecond\n" + Report.END + "\noutro\n");
    }

    @Test
    void appendsTheSectionWhereThereAreNoMarkers() throws Exception {
        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "intro");
        Report.intoReadme(readme, "table\n");
        assertThat(Files.readString(readme)).isEqualTo("intro\n" + Report.BEGIN + "\ntable\n" + Report.END + "\n");
    }

    @Test
    void readsWhatTheWrkScriptWrote() {
        Wrk.Load load = Wrk.parse(List.of("requests\t1200", "duration_us\t2000000", "errors\t3", "p50_us\t1500",
                "p99_us\t9000", "max_us\t12000", "user\t1000001\tJSESSIONID=ABC\t17", "user\t2000001\t\t1",
                "bad_responses\t2"));
        assertThat(load.requestsPerSecond()).isEqualTo(600.0);
        assertThat(load.p99Us()).isEqualTo(9000);
        assertThat(load.badResponses()).isEqualTo(2);
        assertThat(load.users()).containsExactly(new Wrk.User(1000001, "JSESSIONID=ABC", 17),
                new Wrk.User(2000001, "", 1));
    }

    @Test
    void countsTheReadyMembersAnAgentReports() {
        String metrics = "# HELP session_agent_members Other members\nsession_agent_members{state=\"joining\"} 0.0\n"
                + "session_agent_members{state=\"ready\"} 1.0\n";
        assertThat(Deployment.readyMembers(metrics)).isEqualTo(1.0);
        assertThat(Deployment.readyMembers("session_agent_members{state=\"ready\"} 0.0\n")).isZero();
    }

    @Test
    void readsTheFilterCountersOfTheStatusPage() {
        FilterStatus before = FilterStatus.parse("members=0 serialize.nanos=5 deltas.sent=10 agent.errors=1 agent.calls_skipped=2\n");
        FilterStatus after = FilterStatus.parse("members=0 deltas.sent=110 agent.errors=4 agent.calls_skipped=2");
        assertThat(after.minus(before)).isEqualTo(new FilterStatus(100, 3, 0));
        assertThat(after.minus(before).failedOrSkipped()).isEqualTo(3);
    }
}
