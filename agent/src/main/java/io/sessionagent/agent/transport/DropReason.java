package io.sessionagent.agent.transport;

/** Why a datagram was refused by the codec. */
public enum DropReason {
    MALFORMED,
    VERSION,
    FOREIGN_CLUSTER,
    OVERSIZED,
    /** Sealed with no key held, in clear where a key is required, an unknown key id or a bad tag. */
    AUTH,
    /** Authentic, but a control frame already received. */
    REPLAY
}
