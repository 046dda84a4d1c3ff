package io.sessionagent.agent.membership;

import io.sessionagent.proto.v1.Heartbeat;
import io.sessionagent.proto.v1.MemberState;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The view: which other members are alive, from heartbeats and any other frame they send.
 * Failure detection is a plain timeout on silence (Tomcat's McastService defaults: heartbeat
 * every 500 ms, drop after 3000 ms). Time is passed in, so tests drive it without sleeping.
 *
 * <p>Not thread-safe: owned by the protocol thread.
 */
public final class Membership {
    private final long selfId;
    private final long failureTimeoutMs;
    private final Map<Long, Member> members = new HashMap<>();
    /** Incarnations that left in order: a late heartbeat of theirs must not bring them back. */
    private final Map<Long, Long> departed = new HashMap<>();
    private long viewId;

    public Membership(long selfId, long failureTimeoutMs) {
        this.selfId = selfId;
        this.failureTimeoutMs = failureTimeoutMs;
    }

    /**
     * Notes that a frame of any type arrived from a member; returns STALE when the frame must be
     * ignored, else NONE (liveness only).
     */
    public MembershipChange onFrame(long memberId, long incarnation, long nowMs) {
        if (isStale(memberId, incarnation)) {
            return MembershipChange.STALE;
        }
        Member m = members.get(memberId);
        if (m != null && m.incarnation() == incarnation) {
            m.heard(nowMs);
        }
        return MembershipChange.NONE;
    }

    public MembershipChange onHeartbeat(long memberId, long incarnation, Heartbeat hb, long nowMs) {
        if (memberId == selfId || isStale(memberId, incarnation)) {
            return MembershipChange.STALE;
        }
        Member m = members.get(memberId);
        MembershipChange change;
        if (m == null) {
            m = new Member(memberId, incarnation, nowMs);
            members.put(memberId, m);
            change = MembershipChange.JOINED;
        } else if (incarnation > m.incarnation()) {
            m = new Member(memberId, incarnation, nowMs);
            members.put(memberId, m);
            change = MembershipChange.RESTARTED;
        } else {
            boolean wasReady = m.isReady();
            boolean wasReplicating = m.replicationEnabled();
            change = !wasReady && hb.getState() == MemberState.MEMBER_STATE_READY ? MembershipChange.BECAME_READY
                    : !wasReplicating && hb.getReplicationEnabled() ? MembershipChange.REPLICATION_RESUMED
                    : MembershipChange.NONE;
        }
        m.heard(nowMs);
        m.update(hb.getNodeName(), hb.getPeerAddress(), hb.getState(), hb.getSessionCount(), hb.getHighestSent(),
                hb.getReplicationEnabled(), hb.getTableHash());
        if (change == MembershipChange.JOINED || change == MembershipChange.RESTARTED) {
            viewId++;
        }
        return change;
    }

    /** An orderly leave: the member is dropped at once. Returns the member, or null if unknown. */
    public Member onLeave(long memberId, long incarnation) {
        Member m = members.get(memberId);
        departed.merge(memberId, incarnation, Math::max);
        if (m != null && m.incarnation() <= incarnation) {
            members.remove(memberId);
            viewId++;
            return m;
        }
        return null;
    }

    /** Drops every member silent for longer than the failure timeout and returns them. */
    public List<Member> detectFailures(long nowMs) {
        List<Member> failed = null;
        for (Member m : members.values()) {
            if (nowMs - m.lastHeardMs() > failureTimeoutMs) {
                if (failed == null) {
                    failed = new ArrayList<>();
                }
                failed.add(m);
            }
        }
        if (failed == null) {
            return Collections.emptyList();
        }
        for (Member m : failed) {
            members.remove(m.id());
        }
        viewId++;
        return failed;
    }

    private boolean isStale(long memberId, long incarnation) {
        Long left = departed.get(memberId);
        if (left != null && incarnation <= left) {
            return true;
        }
        Member m = members.get(memberId);
        return m != null && incarnation < m.incarnation();
    }

    public Member get(long memberId) {
        return members.get(memberId);
    }

    public Collection<Member> members() {
        return Collections.unmodifiableCollection(members.values());
    }

    public long viewId() {
        return viewId;
    }

    public View snapshot(long nowMs) {
        TreeMap<Long, MemberSnapshot> sorted = new TreeMap<>(Long::compareUnsigned);
        for (Member m : members.values()) {
            sorted.put(m.id(), m.snapshot(nowMs));
        }
        return new View(viewId, List.copyOf(sorted.values()));
    }
}
