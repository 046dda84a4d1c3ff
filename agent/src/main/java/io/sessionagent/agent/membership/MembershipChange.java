package io.sessionagent.agent.membership;

/** What a heartbeat did to the view. */
public enum MembershipChange {
    /** Nothing but liveness. */
    NONE,
    /** A member not in the view appeared: a new node, or one back after a partition. */
    JOINED,
    /** A member came back with a higher incarnation: it restarted and lost its state. */
    RESTARTED,
    /** A known member moved to READY. */
    BECAME_READY,
    /** A known member switched replication back on. */
    REPLICATION_RESUMED,
    /** The frame came from an older incarnation or a member that left; ignore it. */
    STALE
}
