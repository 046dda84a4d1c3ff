package io.sessionagent.agent.replication;

import io.sessionagent.proto.v1.MemberState;

/**
 * What this agent announces about itself: its state and whether replication is on. Written on
 * the protocol thread only; volatile because gRPC and metrics threads read both for the cluster
 * view, {@code GetSession} and the gauges.
 */
final class LocalMember {
    private volatile MemberState state = MemberState.MEMBER_STATE_JOINING;
    private volatile boolean replicationEnabled;

    LocalMember(boolean replicationEnabled) {
        this.replicationEnabled = replicationEnabled;
    }

    MemberState state() {
        return state;
    }

    boolean isJoining() {
        return state == MemberState.MEMBER_STATE_JOINING;
    }

    boolean isReady() {
        return state == MemberState.MEMBER_STATE_READY;
    }

    boolean isLeaving() {
        return state == MemberState.MEMBER_STATE_LEAVING;
    }

    void becomeReady() {
        state = MemberState.MEMBER_STATE_READY;
    }

    void leave() {
        state = MemberState.MEMBER_STATE_LEAVING;
    }

    boolean replicationEnabled() {
        return replicationEnabled;
    }

    void setReplicationEnabled(boolean enabled) {
        replicationEnabled = enabled;
    }
}
