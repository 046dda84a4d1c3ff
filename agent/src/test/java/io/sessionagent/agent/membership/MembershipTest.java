package io.sessionagent.agent.membership;

import static org.assertj.core.api.Assertions.assertThat;

import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;
import java.util.List;
import org.junit.jupiter.api.Test;

class MembershipTest {
    private static final long SELF = 100;
    private static final long TIMEOUT = 3_000;
    private static final long T0 = 50_000;

    private final Membership membership = new Membership(SELF, TIMEOUT);

    private static Heartbeat hb(MemberState state, boolean replicating) {
        return Heartbeat.newBuilder().setNodeName("node").setPeerAddress("10.0.0.1:7001").setState(state)
                .setReplicationEnabled(replicating).build();
    }

    private static Heartbeat ready() {
        return hb(MemberState.MEMBER_STATE_READY, true);
    }

    private static Heartbeat joining() {
        return hb(MemberState.MEMBER_STATE_JOINING, true);
    }

    // ------------------------------------------------------------------ heartbeats

    @Test
    void firstHeartbeatJoinsTheMemberAndStartsANewView() {
        long view = membership.viewId();

        MembershipChange c = membership.onHeartbeat(1, 10, ready(), T0);

        assertThat(c).isEqualTo(MembershipChange.JOINED);
        assertThat(membership.viewId()).isEqualTo(view + 1);
        Member m = membership.get(1);
        assertThat(m.incarnation()).isEqualTo(10);
        assertThat(m.lastHeardMs()).isEqualTo(T0);
        assertThat(m.nodeName()).isEqualTo("node");
        assertThat(m.peerAddress()).isEqualTo("10.0.0.1:7001");
        assertThat(m.isReady()).isTrue();
    }

    @Test
    void laterHeartbeatsChangeNothingButLiveness() {
        membership.onHeartbeat(1, 10, ready(), T0);
        long view = membership.viewId();

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 500)).isEqualTo(MembershipChange.NONE);
        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 1_000)).isEqualTo(MembershipChange.NONE);

        assertThat(membership.viewId()).isEqualTo(view);
        assertThat(membership.get(1).lastHeardMs()).isEqualTo(T0 + 1_000);
    }

    @Test
    void heartbeatCarriesTheMembersLatestFigures() {
        membership.onHeartbeat(1, 10, ready().toBuilder().setSessionCount(5).setHighestSent(40).build(), T0);

        membership.onHeartbeat(1, 10, ready().toBuilder().setSessionCount(3).setHighestSent(30)
                .setNodeName("renamed").build(), T0 + 500);

        Member m = membership.get(1);
        assertThat(m.sessionCount()).isEqualTo(3);
        assertThat(m.highestSent()).as("never goes back").isEqualTo(40);
        assertThat(m.nodeName()).isEqualTo("renamed");
    }

    @Test
    void eachNewMemberStartsANewView() {
        membership.onHeartbeat(1, 10, ready(), T0);
        membership.onHeartbeat(2, 10, ready(), T0);
        membership.onHeartbeat(3, 10, ready(), T0);

        assertThat(membership.viewId()).isEqualTo(3);
        assertThat(membership.members()).hasSize(3);
    }

    @Test
    void higherIncarnationIsARestartThatReplacesTheMember() {
        membership.onHeartbeat(1, 10, ready().toBuilder().setHighestSent(500).build(), T0);
        long view = membership.viewId();

        MembershipChange c = membership.onHeartbeat(1, 11, joining(), T0 + 100);

        assertThat(c).isEqualTo(MembershipChange.RESTARTED);
        assertThat(membership.viewId()).isEqualTo(view + 1);
        Member m = membership.get(1);
        assertThat(m.incarnation()).isEqualTo(11);
        assertThat(m.highestSent()).as("a fresh stream").isZero();
        assertThat(m.isReady()).isFalse();
        assertThat(membership.members()).hasSize(1);
    }

    @Test
    void lowerIncarnationIsStaleAndIgnored() {
        membership.onHeartbeat(1, 11, joining(), T0);
        long view = membership.viewId();

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 100)).isEqualTo(MembershipChange.STALE);

        assertThat(membership.viewId()).isEqualTo(view);
        Member m = membership.get(1);
        assertThat(m.incarnation()).isEqualTo(11);
        assertThat(m.isReady()).isFalse();
        assertThat(m.lastHeardMs()).isEqualTo(T0);
    }

    @Test
    void ownHeartbeatIsStale() {
        assertThat(membership.onHeartbeat(SELF, 10, ready(), T0)).isEqualTo(MembershipChange.STALE);

        assertThat(membership.get(SELF)).isNull();
        assertThat(membership.members()).isEmpty();
        assertThat(membership.viewId()).isZero();
    }

    @Test
    void memberBecomingReadyIsReportedOnce() {
        membership.onHeartbeat(1, 10, joining(), T0);

        assertThat(membership.onHeartbeat(1, 10, joining(), T0 + 500)).isEqualTo(MembershipChange.NONE);
        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 1_000)).isEqualTo(MembershipChange.BECAME_READY);
        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 1_500)).isEqualTo(MembershipChange.NONE);
        assertThat(membership.get(1).isReady()).isTrue();
        assertThat(membership.viewId()).as("readiness is not a view change").isEqualTo(1);
    }

    @Test
    void memberSwitchingReplicationBackOnIsReportedOnce() {
        membership.onHeartbeat(1, 10, ready(), T0);
        assertThat(membership.onHeartbeat(1, 10, hb(MemberState.MEMBER_STATE_READY, false), T0 + 500))
                .isEqualTo(MembershipChange.NONE);
        assertThat(membership.get(1).replicationEnabled()).isFalse();

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 1_000))
                .isEqualTo(MembershipChange.REPLICATION_RESUMED);
        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 1_500)).isEqualTo(MembershipChange.NONE);
        assertThat(membership.get(1).replicationEnabled()).isTrue();
    }

    @Test
    void memberJoiningWithReplicationOffReportsItsResumption() {
        membership.onHeartbeat(1, 10, hb(MemberState.MEMBER_STATE_READY, false), T0);

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 500)).isEqualTo(MembershipChange.REPLICATION_RESUMED);
    }

    // ------------------------------------------------------------------ failure detection

    @Test
    void silentMemberIsDroppedJustAfterTheTimeoutAndNotAtIt() {
        membership.onHeartbeat(1, 10, ready(), T0);
        long view = membership.viewId();

        assertThat(membership.detectFailures(T0 + TIMEOUT)).isEmpty();
        assertThat(membership.get(1)).isNotNull();
        assertThat(membership.viewId()).isEqualTo(view);

        List<Member> failed = membership.detectFailures(T0 + TIMEOUT + 1);

        assertThat(failed).extracting(Member::id).containsExactly(1L);
        assertThat(membership.get(1)).isNull();
        assertThat(membership.viewId()).isEqualTo(view + 1);
        assertThat(membership.detectFailures(T0 + TIMEOUT + 2)).isEmpty();
        assertThat(membership.viewId()).isEqualTo(view + 1);
    }

    @Test
    void onlySilentMembersAreDroppedAndTogetherInOneViewChange() {
        membership.onHeartbeat(1, 10, ready(), T0);
        membership.onHeartbeat(2, 10, ready(), T0);
        membership.onHeartbeat(3, 10, ready(), T0 + 2_000);
        long view = membership.viewId();

        List<Member> failed = membership.detectFailures(T0 + TIMEOUT + 1);

        assertThat(failed).extracting(Member::id).containsExactlyInAnyOrder(1L, 2L);
        assertThat(membership.members()).extracting(Member::id).containsExactly(3L);
        assertThat(membership.viewId()).isEqualTo(view + 1);
    }

    @Test
    void heartbeatsKeepAMemberAlive() {
        membership.onHeartbeat(1, 10, ready(), T0);
        for (long t = T0 + 500; t <= T0 + 20_000; t += 500) {
            membership.onHeartbeat(1, 10, ready(), t);
            assertThat(membership.detectFailures(t + TIMEOUT)).isEmpty();
        }
        assertThat(membership.get(1)).isNotNull();
    }

    @Test
    void memberDroppedForSilenceMayJoinAgain() {
        membership.onHeartbeat(1, 10, ready(), T0);
        membership.detectFailures(T0 + TIMEOUT + 1);

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + TIMEOUT + 2)).isEqualTo(MembershipChange.JOINED);
        assertThat(membership.get(1)).isNotNull();
    }

    @Test
    void anyFrameOfTheCurrentIncarnationRefreshesLiveness() {
        membership.onHeartbeat(1, 10, ready(), T0);

        assertThat(membership.onFrame(1, 10, T0 + 2_500)).isEqualTo(MembershipChange.NONE);

        assertThat(membership.get(1).lastHeardMs()).isEqualTo(T0 + 2_500);
        assertThat(membership.detectFailures(T0 + TIMEOUT + 1)).isEmpty();
        assertThat(membership.detectFailures(T0 + 2_500 + TIMEOUT + 1)).hasSize(1);
    }

    @Test
    void frameOfAnOlderIncarnationIsStaleAndDoesNotRefreshLiveness() {
        membership.onHeartbeat(1, 11, ready(), T0);

        assertThat(membership.onFrame(1, 10, T0 + 2_500)).isEqualTo(MembershipChange.STALE);

        assertThat(membership.get(1).lastHeardMs()).isEqualTo(T0);
        assertThat(membership.detectFailures(T0 + TIMEOUT + 1)).hasSize(1);
    }

    @Test
    void frameOfANewerIncarnationDoesNotRefreshTheOldOne() {
        membership.onHeartbeat(1, 10, ready(), T0);

        assertThat(membership.onFrame(1, 11, T0 + 2_500)).isEqualTo(MembershipChange.NONE);

        Member m = membership.get(1);
        assertThat(m.incarnation()).isEqualTo(10);
        assertThat(m.lastHeardMs()).isEqualTo(T0);
    }

    @Test
    void frameFromAnUnknownMemberDoesNotAddIt() {
        assertThat(membership.onFrame(7, 10, T0)).isEqualTo(MembershipChange.NONE);

        assertThat(membership.get(7)).isNull();
        assertThat(membership.viewId()).isZero();
    }

    @Test
    void lateFrameDoesNotMoveLivenessBackwards() {
        membership.onHeartbeat(1, 10, ready(), T0 + 1_000);

        membership.onFrame(1, 10, T0);
        membership.onHeartbeat(1, 10, ready(), T0 + 500);

        assertThat(membership.get(1).lastHeardMs()).isEqualTo(T0 + 1_000);
    }

    // ------------------------------------------------------------------ leave

    @Test
    void leaveRemovesTheMemberAtOnce() {
        membership.onHeartbeat(1, 10, ready(), T0);
        long view = membership.viewId();

        Member left = membership.onLeave(1, 10);

        assertThat(left).isNotNull();
        assertThat(left.id()).isEqualTo(1);
        assertThat(membership.get(1)).isNull();
        assertThat(membership.viewId()).isEqualTo(view + 1);
    }

    @Test
    void incarnationThatLeftCannotComeBack() {
        membership.onHeartbeat(1, 10, ready(), T0);
        membership.onLeave(1, 10);
        long view = membership.viewId();

        assertThat(membership.onHeartbeat(1, 10, ready(), T0 + 100)).isEqualTo(MembershipChange.STALE);
        assertThat(membership.onHeartbeat(1, 9, ready(), T0 + 100)).isEqualTo(MembershipChange.STALE);
        assertThat(membership.onFrame(1, 10, T0 + 100)).isEqualTo(MembershipChange.STALE);

        assertThat(membership.get(1)).isNull();
        assertThat(membership.viewId()).isEqualTo(view);
    }

    @Test
    void laterIncarnationMayJoinAfterALeave() {
        membership.onHeartbeat(1, 10, ready(), T0);
        membership.onLeave(1, 10);

        assertThat(membership.onHeartbeat(1, 11, joining(), T0 + 100)).isEqualTo(MembershipChange.JOINED);
        assertThat(membership.get(1).incarnation()).isEqualTo(11);
    }

    @Test
    void leaveOfAnOlderIncarnationKeepsTheCurrentOne() {
        membership.onHeartbeat(1, 11, ready(), T0);
        long view = membership.viewId();

        assertThat(membership.onLeave(1, 10)).isNull();

        assertThat(membership.get(1).incarnation()).isEqualTo(11);
        assertThat(membership.viewId()).isEqualTo(view);
    }

    @Test
    void leaveOfAnUnknownMemberIsRememberedButChangesNoView() {
        assertThat(membership.onLeave(1, 10)).isNull();
        assertThat(membership.viewId()).isZero();

        assertThat(membership.onHeartbeat(1, 10, ready(), T0)).isEqualTo(MembershipChange.STALE);
        assertThat(membership.onHeartbeat(1, 11, ready(), T0)).isEqualTo(MembershipChange.JOINED);
    }

    // ------------------------------------------------------------------ snapshot

    @Test
    void snapshotListsMembersOrderedByIdWithTheirSilence() {
        membership.onHeartbeat(30, 1, ready().toBuilder().setSessionCount(3).build(), T0);
        membership.onHeartbeat(10, 1, joining(), T0 + 200);
        membership.onHeartbeat(20, 1, ready(), T0 + 100);

        View v = membership.snapshot(T0 + 1_000);

        assertThat(v.viewId()).isEqualTo(3);
        assertThat(v.members()).extracting(MemberSnapshot::id).containsExactly(10L, 20L, 30L);
        assertThat(v.members()).extracting(MemberSnapshot::lastHeardMsAgo).containsExactly(800L, 900L, 1_000L);
        assertThat(v.members().get(2)).isEqualTo(new MemberSnapshot(30, 1, "node", "10.0.0.1:7001",
                MemberState.MEMBER_STATE_READY, 1_000, 3));
    }

    @Test
    void snapshotOrdersIdsAsUnsignedNumbers() {
        long high = 0x8000_0000_0000_0000L;
        membership.onHeartbeat(high, 1, ready(), T0);
        membership.onHeartbeat(5, 1, ready(), T0);
        membership.onHeartbeat(-1L, 1, ready(), T0);

        assertThat(membership.snapshot(T0).members()).extracting(MemberSnapshot::id)
                .containsExactly(5L, high, -1L);
    }

    @Test
    void snapshotIsACopy() {
        membership.onHeartbeat(1, 1, ready(), T0);
        View v = membership.snapshot(T0);

        membership.onHeartbeat(2, 1, ready(), T0);
        membership.onLeave(1, 1);

        assertThat(v.members()).extracting(MemberSnapshot::id).containsExactly(1L);
        assertThat(v.viewId()).isEqualTo(1);
    }
}
