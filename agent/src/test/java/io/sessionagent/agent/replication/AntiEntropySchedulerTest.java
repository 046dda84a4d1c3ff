package io.sessionagent.agent.replication;

import io.sessionagent.agent.membership.Member;
import io.sessionagent.agent.membership.Membership;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When anti-entropy runs: a failed pull is tried again with a doubling delay, and a divergence
 * that no traffic explains asks for a pull. The peer is a closed port, so every pull fails at
 * once and the failure counter shows each attempt; executors run inline and time is explicit.
 */
class AntiEntropySchedulerTest {
    private static final Executor INLINE = Runnable::run;
    private final Counters counters = new Counters();
    private final SessionTable table = new SessionTable(Limits.unlimited(), () -> 0, 0, 1000);
    private final Membership membership = new Membership(1, 3000);
    private final PeerClients peers = new PeerClients("c", 1, 1 << 20, null);
    private long now = 10_000;
    private AntiEntropyScheduler scheduler;
    private String closedAddress;

    @BeforeEach
    void setUp() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            closedAddress = "127.0.0.1:" + s.getLocalPort();
        }
        LocalMember local = new LocalMember(true);
        local.becomeReady();
        scheduler = new AntiEntropyScheduler(new AntiEntropy(table, peers, counters, 2_000), local, membership,
                table, counters, INLINE, INLINE, () -> now);
    }

    @AfterEach
    void tearDown() {
        peers.close();
    }

    private Member heartbeat(long tableHash) {
        membership.onHeartbeat(2, 1, Heartbeat.newBuilder().setNodeName("peer").setPeerAddress(closedAddress)
                .setState(MemberState.MEMBER_STATE_READY).setReplicationEnabled(true).setTableHash(tableHash)
                .build(), now);
        return membership.get(2);
    }

    private long failures() {
        return counters.get(Counter.ANTI_ENTROPY_FAILURES);
    }

    @Test
    void aFailedPullIsTriedAgainWithADoublingDelay() {
        scheduler.request(heartbeat(0));
        assertThat(failures()).isEqualTo(1);

        now += 249;
        scheduler.retryDue(now);
        assertThat(failures()).as("not before 250 ms").isEqualTo(1);
        now += 1;
        scheduler.retryDue(now);
        assertThat(failures()).isEqualTo(2);

        now += 499;
        scheduler.retryDue(now);
        assertThat(failures()).as("the second delay is 500 ms").isEqualTo(2);
        now += 1;
        scheduler.retryDue(now);
        assertThat(failures()).isEqualTo(3);
    }

    @Test
    void noRetryForAMemberThatLeftTheView() {
        scheduler.request(heartbeat(0));
        membership.onLeave(2, 1);
        now += 60_000;
        scheduler.retryDue(now);
        assertThat(failures()).isEqualTo(1);
    }

    @Test
    void aQuietDivergenceAsksForAPullButTrafficInFlightDoesNot() {
        scheduler.onHeartbeat(heartbeat(111), now);
        assertThat(failures()).as("one heartbeat says nothing yet").isZero();
        now += 500;
        scheduler.onHeartbeat(heartbeat(222), now);
        assertThat(failures()).as("its table is still changing").isZero();
        now += 500;
        scheduler.onHeartbeat(heartbeat(222), now);
        assertThat(failures()).as("stable, and different from ours").isEqualTo(1);
        now += 500;
        scheduler.onHeartbeat(heartbeat(222), now);
        assertThat(failures()).as("at most one such pull every 5 s (retries aside)").isEqualTo(1);
    }

    @Test
    void equalTablesNeverAskForAPull() {
        long mine = table.tableHash();
        for (int i = 0; i < 5; i++) {
            now += 500;
            scheduler.onHeartbeat(heartbeat(mine), now);
        }
        assertThat(failures()).isZero();
    }
}
