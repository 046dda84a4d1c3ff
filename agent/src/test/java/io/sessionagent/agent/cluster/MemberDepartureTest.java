package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How soon three agents on loopback multicast drop a member that left or went silent. Timed
 * against the failure timeout, so it runs alone: a test beside it would lend it its load.
 */
@Isolated
class MemberDepartureTest {
    private final TestCluster cluster = new TestCluster("departure-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    @Test
    void anAgentSilencedWithoutLeaveIsDroppedWithinFailureTimeout() throws Exception {
        List<Agent> agents = cluster.startReady("node-a", "node-b", "node-c");
        Agent victim = agents.get(2);
        long start = System.nanoTime();
        cluster.transport(victim).cut();
        for (Agent survivor : agents.subList(0, 2)) {
            Eventually.await(Duration.ofMillis(3_500), () -> survivor.replicator().view().members().stream()
                    .noneMatch(m -> m.id() == victim.memberId()), () -> "victim dropped from the view");
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(elapsedMs).isLessThanOrEqualTo(3_500);
        assertThat(agents.get(0).counter(Counter.MEMBERS_SUSPECTED)).isEqualTo(1);
    }

    @Test
    void anOrderlyLeaveIsSeenAtOnce() throws Exception {
        List<Agent> agents = cluster.startReady("node-a", "node-b", "node-c");
        Agent leaver = agents.get(2);
        cluster.stop(leaver);
        for (Agent survivor : agents.subList(0, 2)) {
            // Well under the failure timeout: only the LEAVE can explain it.
            Eventually.await(Duration.ofMillis(1_500), () -> survivor.replicator().view().members().size() == 1,
                    () -> "leaver gone from the view");
            assertThat(survivor.counter(Counter.MEMBERS_LEFT)).isEqualTo(1);
        }
    }
}
