package io.sessionagent.agent.replication;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.sessionagent.agent.api.PeerServiceImpl;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;

import static io.sessionagent.agent.replication.ReplicatorHarness.delta;
import static org.assertj.core.api.Assertions.assertThat;

/** A replica that missed a session's beginning recovers it without the writer's help. */
class WholeDeltasAndRepairsTest {
    private static final long WRITER = 2;
    private static final long OTHER = 3;

    private static Attribute attr(String name, String value) {
        return Attribute.newBuilder().setName(name).setValue(ByteString.copyFromUtf8(value)).build();
    }

    @Test
    void aSessionWhoseCreateWasLostIsRecoveredFromALaterWholeDeltaWithItsWriterDead() throws Exception {
        try (ReplicatorHarness h = new ReplicatorHarness(400).startAlone()) {
            // First heard of after it sent sequence 1, which created both sessions: that is gone.
            h.heartbeat(WRITER, 1);
            h.data(WRITER, 2, delta("whole", WRITER, 1, 2).addSet(attr("a", "2")).addSet(attr("b", "2"))
                    .setWhole(true).build(), delta("partial", WRITER, 1, 2).addSet(attr("a", "2")).build());
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.DELTAS_RECEIVED) == 2,
                    () -> "both deltas delivered");
            // The writer dies; nobody can serve a repair.
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.MEMBERS_SUSPECTED) == 1,
                    () -> "the writer dropped");

            assertThat(h.table.get("whole").orElseThrow().getVersion()).isEqualTo(2);
            assertThat(h.table.get("whole").orElseThrow().getAttributesCount()).isEqualTo(2);
            assertThat(h.counters.get(Counter.DELTAS_WHOLE_OVER_GAP)).isEqualTo(1);
            // A delta of part of the session still needs its base.
            assertThat(h.table.get("partial")).isEmpty();
            assertThat(h.counters.get(Counter.DELTAS_OUT_OF_ORDER)).isEqualTo(1);
        }
    }

    @Test
    void aRepairTheDeadWriterCannotServeIsFetchedFromAnotherMember() throws Exception {
        SessionTable otherTable = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 600_000);
        Server otherPeerService = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new PeerServiceImpl(otherTable, new Counters(), "c")).build().start();
        try (ReplicatorHarness h = new ReplicatorHarness(3000).startAlone()) {
            // The other member's table equals this one as far as anti-entropy can tell, so only the
            // repair can bring the session.
            h.heartbeat(OTHER, "127.0.0.1:" + otherPeerService.getPort(), 0, h.table.tableHash());
            Eventually.await(Duration.ofSeconds(5), () -> h.counters.get(Counter.ANTI_ENTROPY_RUNS) == 1,
                    () -> "the pull from a member that joins the view is over");
            long now = System.currentTimeMillis();
            otherTable.merge(SessionRecord.newBuilder().setId("s").setVersion(2).setWriter(WRITER)
                    .setCreationTimeMs(now).setLastAccessTimeMs(now).setMaxInactiveSeconds(600)
                    .addAttributes(attr("a", "2")).build());
            // The writer was killed: still in the view, its PeerService refuses every call.
            h.heartbeat(WRITER, 1);
            h.data(WRITER, 2, delta("s", WRITER, 1, 2).addSet(attr("a", "2")).build());

            Eventually.await(Duration.ofSeconds(5), () -> h.table.get("s").isPresent(),
                    () -> "repaired from the other member: " + h.counters.snapshotByName());
            assertThat(h.table.get("s").orElseThrow().getVersion()).isEqualTo(2);
            assertThat(h.counters.get(Counter.SESSION_REPAIRS)).isEqualTo(1);
        } finally {
            otherPeerService.shutdownNow();
        }
    }
}
