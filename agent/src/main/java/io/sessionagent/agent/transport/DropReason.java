package io.sessionagent.agent.transport;

/** Why a datagram was refused by the codec. */
public enum DropReason {
    MALFORMED,
    VERSION,
    FOREIGN_CLUSTER,
    OVERSIZED
}
