package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/** Frames received behind a hole are not thrown away when their sender dies before filling it. */
class HeldFramesOfADeadSenderTest {
    private static final long PEER = 2;

    @Test
    void framesHeldBehindAGapAreDeliveredInOrderWhenTheirSenderFails() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(400).startAlone()) {
            h.heartbeat(PEER, 0);
            h.data(PEER, 1, delta("before", PEER, 0, 1).build());
            // Sequence 2 is lost; 3 and 4 wait behind it, 4 building on 3.
            h.data(PEER, 3, delta("after", PEER, 0, 1).build());
            h.data(PEER, 4, delta("after", PEER, 1, 2).build());
            Eventually.await(Duration.ofSeconds(5), () -> h.table.get("before").isPresent(), () -> "sequence 1");
            assertThat(h.table.get("after")).isEmpty();

            // The sender falls silent for good: once it is dropped, what it sent after the hole counts.
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.MEMBERS_SUSPECTED) == 1,
                    () -> "the silent sender dropped");
            Eventually.await(Duration.ofSeconds(5), () -> h.table.get("after").map(SessionRecord::getVersion)
                    .orElse(0L) == 2, () -> "held frames delivered in order: " + h.table.get("after"));
            assertThat(h.counters.get(Counter.GAPS_UNRECOVERABLE)).isEqualTo(1);
            assertThat(h.counters.get(Counter.DELTAS_APPLIED)).isEqualTo(3);
        }
    }
}
