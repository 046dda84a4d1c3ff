package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.transport.FrameType;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;
import org.slf4j.event.SubstituteLoggingEvent;
import org.slf4j.helpers.SubstituteLogger;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

/** A task of the protocol thread that throws is counted and logged, and the thread goes on. */
class ProtocolThreadFailuresTest {
    @Test
    void aFlushWhoseTransportThrowsIsCountedAndLaterWritesAndTicksGoOn() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.failingHandOffs.set(2);
            h.replicator.replicate(ReplicatorHarness.delta("first", ReplicatorHarness.SELF, 0, 1).build(), null);
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.PROTOCOL_ERRORS) == 1,
                    () -> "the first failed flush counted: " + h.counters.snapshotByName());
            h.replicator.replicate(ReplicatorHarness.delta("second", ReplicatorHarness.SELF, 0, 1).build(), null);
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.PROTOCOL_ERRORS) == 2,
                    () -> "the second failed flush counted: " + h.counters.snapshotByName());

            int heartbeats = h.sent(FrameType.HEARTBEAT).size();
            h.replicator.replicate(ReplicatorHarness.delta("third", ReplicatorHarness.SELF, 0, 1).build(), null);
            Eventually.await(Duration.ofSeconds(5), () -> !h.sent(FrameType.DATA).isEmpty(),
                    () -> "a later write leaves");
            assertThat(h.sent(FrameType.DATA).get(0).sequence()).isEqualTo(3);
            Eventually.await(Duration.ofSeconds(5), () -> h.sent(FrameType.HEARTBEAT).size() > heartbeats + 2,
                    () -> "the tick still runs");
            assertThat(h.counters.get(Counter.PROTOCOL_ERRORS)).isEqualTo(2);
        }
    }

    @Test
    void aFrameWhoseHandlerThrowsIsCountedAndTheNextFramesAreHandled() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.table.observeReplicatedApplies(d -> {
                if (d.getId().startsWith("bad")) {
                    throw new IllegalStateException("a handler that throws");
                }
            });
            h.heartbeat(2, 0);
            h.data(2, 1, ReplicatorHarness.delta("bad1", 2, 0, 1).build());
            h.data(2, 2, ReplicatorHarness.delta("bad2", 2, 0, 1).build());
            h.data(2, 3, ReplicatorHarness.delta("good", 2, 0, 1).build());

            Eventually.await(Duration.ofSeconds(5), () -> h.table.get("good").isPresent(),
                    () -> "the frame after the failures handled: " + h.counters.snapshotByName());
            assertThat(h.counters.get(Counter.PROTOCOL_ERRORS)).isEqualTo(2);
        }
    }

    @Test
    void eachKindOfFailureIsLoggedOnceAndEveryFailureCounted() {
        Queue<SubstituteLoggingEvent> events = new ConcurrentLinkedQueue<>();
        Counters counters = new Counters();
        ProtocolErrors errors = new ProtocolErrors(counters, new SubstituteLogger("protocol", events, false));
        for (int i = 0; i < 3; i++) {
            errors.run("handling DATA", ProtocolThreadFailuresTest::failHere);
        }
        errors.run("handling DATA", () -> {
            throw new IllegalStateException("elsewhere");
        });
        errors.run("protocol tick", ProtocolThreadFailuresTest::failHere);

        assertThat(counters.get(Counter.PROTOCOL_ERRORS)).isEqualTo(5);
        assertThat(events.stream().filter(e -> e.getLevel() == Level.ERROR).map(e -> e.getArgumentArray()[0]))
                .containsExactly("handling DATA", "handling DATA", "protocol tick");
        assertThat(events.stream().filter(e -> e.getLevel() == Level.ERROR))
                .allSatisfy(e -> assertThat(e.getThrowable()).isInstanceOf(IllegalStateException.class));
    }

    private static void failHere() {
        throw new IllegalStateException("a bug");
    }
}
