package io.sessionagent.agent.replication;

import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.testing.Eventually;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/** Tombstones against changes of their session that arrive by replication after the invalidation. */
class TombstonesTest {

    @Test
    void anIdInvalidatedBeforeItsCreateArrivesByReplicationIsNotRevived() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            // The local application logs out of a session another member created: its create is
            // still on its way here.
            SessionTable.Invalidation done = h.table.invalidateLocal("late-create", ReplicatorHarness.SELF,
                    System.currentTimeMillis(), 1800, d -> h.replicator.replicate(d, null));
            assertThat(done.existed()).isFalse();

            h.heartbeat(2, 0);
            h.data(2, 1, delta("late-create", 2, 0, 1).setWhole(true).build(),
                    delta("late-create", 2, 1, 2).build());

            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.TOMBSTONES_REFUSED) == 2,
                    () -> "both deltas refused by the tombstone: " + h.counters.get(Counter.TOMBSTONES_REFUSED));
            assertThat(h.table.get("late-create")).isEmpty();
            assertThat(h.table.getForPeer("late-create")).hasValueSatisfying(r -> {
                assertThat(r.getInvalidated()).isTrue();
                assertThat(r.getVersion()).isEqualTo(SessionTable.UNKNOWN_SESSION_TOMBSTONE_VERSION);
            });
            assertThat(h.counters.get(Counter.DELTAS_APPLIED)).isZero();
        }
    }
}
