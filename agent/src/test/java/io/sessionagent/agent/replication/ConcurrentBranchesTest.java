package io.sessionagent.agent.replication;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Deltas of one session from two writers reach a real replicator: re-deliveries of its lineage
 * are duplicates, versions of a concurrent branch are refused or replace the held one, and every
 * dropped branch is counted.
 */
class ConcurrentBranchesTest {
    private static final long WRITER = 2;
    private static final long OTHER = 3;

    private static Attribute attr(String name, String value) {
        return Attribute.newBuilder().setName(name).setValue(ByteString.copyFromUtf8(value)).build();
    }

    /** Until {@code deltas} were delivered and the protocol thread finished applying the last one. */
    private static void awaitReceived(ReplicatorHarness h, long deltas) throws Exception {
        Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.DELTAS_RECEIVED) == deltas,
                () -> deltas + " deltas delivered: " + h.counters.snapshotByName());
        // A delta is counted as received before it is applied, in the same task on the protocol thread.
        h.loop.submit(() -> { }).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aLowerConcurrentVersionIsCountedAsADroppedBranchNotAsADuplicate() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.heartbeat(WRITER, 0);
            h.heartbeat(OTHER, 0);
            h.data(WRITER, 1, delta("s", WRITER, 0, 1).addSet(attr("a", "1")).build());
            h.data(WRITER, 2, delta("s", WRITER, 1, 2).addSet(attr("a", "2")).build());
            h.data(WRITER, 3, delta("s", WRITER, 2, 3).addSet(attr("a", "3")).build());
            // The writer re-sends the version it holds whole: a re-delivery of version 3.
            h.data(WRITER, 4, delta("s", WRITER, 3, 3).addSet(attr("a", "3")).setWhole(true)
                    .addLineage(1).addLineage(WRITER).build());
            awaitReceived(h, 4);
            assertThat(h.counters.get(Counter.DELTAS_DUPLICATE)).isEqualTo(1);
            assertThat(h.counters.get(Counter.BRANCHES_DISCARDED_INCOMING)).isZero();
            assertThat(h.counters.get(Counter.CONFLICTS)).isZero();

            // Another member wrote version 2 on version 1 for a writer waiting for replicas.
            h.data(OTHER, 1, delta("s", OTHER, 1, 2).setBaseWriter(WRITER).addSet(attr("b", "x")).setSync(true)
                    .build());
            awaitReceived(h, 5);

            assertThat(h.counters.get(Counter.DELTAS_DUPLICATE)).isEqualTo(1);
            assertThat(h.counters.get(Counter.CONFLICTS)).isEqualTo(1);
            assertThat(h.counters.get(Counter.BRANCHES_DISCARDED_INCOMING)).isEqualTo(1);
            assertThat(h.counters.get(Counter.ACKNOWLEDGED_WRITES_DISCARDED)).isEqualTo(1);
            assertThat(h.counters.get(Counter.BRANCHES_DISCARDED_HELD)).isZero();
            SessionRecord r = h.table.get("s").orElseThrow();
            assertThat(r.getVersion()).isEqualTo(3);
            assertThat(r.getWriter()).isEqualTo(WRITER);
        }
    }

    @Test
    void aWinningBranchReplacesTheHeldVersionAndTheDropIsCounted() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            h.heartbeat(WRITER, 0);
            h.heartbeat(OTHER, 0);
            h.data(WRITER, 1, delta("s", WRITER, 0, 1).addSet(attr("a", "1")).build());
            h.data(WRITER, 2, delta("s", WRITER, 1, 2).addSet(attr("a", "2")).setSync(true).build());
            h.data(WRITER, 3, delta("s", WRITER, 2, 3).addSet(attr("a", "3")).build());
            awaitReceived(h, 3);

            // The other branch forked at version 1 and reached version 4: its whole record wins.
            h.data(OTHER, 1, delta("s", OTHER, 3, 4).addSet(attr("b", "4")).setWhole(true)
                    .addLineage(1).addLineage(WRITER).addLineage(2).addLineage(OTHER).build());
            awaitReceived(h, 4);

            SessionRecord r = h.table.get("s").orElseThrow();
            assertThat(r.getVersion()).isEqualTo(4);
            assertThat(r.getWriter()).isEqualTo(OTHER);
            assertThat(r.getAttributesList()).containsExactly(attr("b", "4"));
            assertThat(h.counters.get(Counter.CONFLICTS)).isEqualTo(1);
            assertThat(h.counters.get(Counter.BRANCHES_DISCARDED_HELD)).isEqualTo(1);
            assertThat(h.counters.get(Counter.ACKNOWLEDGED_WRITES_DISCARDED)).isEqualTo(1);
            assertThat(h.counters.get(Counter.BRANCHES_DISCARDED_INCOMING)).isZero();
            assertThat(h.counters.get(Counter.DELTAS_DUPLICATE)).isZero();
        }
    }
}
