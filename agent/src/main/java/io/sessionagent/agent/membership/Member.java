package io.sessionagent.agent.membership;

import io.sessionagent.proto.v1.MemberState;

/**
 * What this agent knows of one other member. Mutable, and confined to the protocol thread like
 * the rest of {@link Membership}; {@link #snapshot} copies it out for other threads.
 */
public final class Member {
    private final long id;
    private final long incarnation;
    private String nodeName = "";
    private String peerAddress = "";
    private MemberState state = MemberState.MEMBER_STATE_UNSPECIFIED;
    private long lastHeardMs;
    private long sessionCount;
    private long highestSent;
    private boolean replicationEnabled = true;
    private long tableHash;

    Member(long id, long incarnation, long nowMs) {
        this.id = id;
        this.incarnation = incarnation;
        this.lastHeardMs = nowMs;
    }

    public long id() {
        return id;
    }

    public long incarnation() {
        return incarnation;
    }

    public String nodeName() {
        return nodeName;
    }

    public String peerAddress() {
        return peerAddress;
    }

    public MemberState state() {
        return state;
    }

    public long lastHeardMs() {
        return lastHeardMs;
    }

    public long sessionCount() {
        return sessionCount;
    }

    public long highestSent() {
        return highestSent;
    }

    public boolean replicationEnabled() {
        return replicationEnabled;
    }

    /** The table hash the member announced last: equal to ours means nothing to pull. */
    public long tableHash() {
        return tableHash;
    }

    public boolean isReady() {
        return state == MemberState.MEMBER_STATE_READY;
    }

    void heard(long nowMs) {
        lastHeardMs = Math.max(lastHeardMs, nowMs);
    }

    void update(String nodeName, String peerAddress, MemberState state, long sessionCount, long highestSent,
                boolean replicationEnabled, long tableHash) {
        this.tableHash = tableHash;
        this.nodeName = nodeName;
        this.peerAddress = peerAddress;
        this.state = state;
        this.sessionCount = sessionCount;
        this.highestSent = Math.max(this.highestSent, highestSent);
        this.replicationEnabled = replicationEnabled;
    }

    /** An immutable copy for threads other than the protocol thread. */
    public MemberSnapshot snapshot(long nowMs) {
        return new MemberSnapshot(id, incarnation, nodeName, peerAddress, state, nowMs - lastHeardMs, sessionCount);
    }

    @Override
    public String toString() {
        return nodeName + "/" + Long.toHexString(id) + "#" + incarnation;
    }
}
