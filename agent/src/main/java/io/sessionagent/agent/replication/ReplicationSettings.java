package io.sessionagent.agent.replication;

import io.sessionagent.agent.config.AgentConfig;

/**
 * What the replication protocol needs from the configuration, in milliseconds and counts. Built
 * with {@link #from} from an {@link AgentConfig}, so that a test names the settings it changes.
 *
 * @param peerAddress host:port of this agent's PeerService, announced in heartbeats
 */
public record ReplicationSettings(
        String clusterName,
        String nodeName,
        long selfId,
        long incarnation,
        String peerAddress,
        long heartbeatIntervalMs,
        long failureTimeoutMs,
        long joinWaitMs,
        long stateTransferTimeoutMs,
        long nakIntervalMs,
        int retransmitBufferFrames,
        long retransmitBufferBytes,
        int receiveBufferFrames,
        long antiEntropyIntervalMs,
        long accessFlushIntervalMs,
        long expiryScanIntervalMs,
        long syncTimeoutMs,
        boolean replicationEnabled) {

    /** The protocol's settings of an agent's configuration, for this run of this member. */
    public static ReplicationSettings from(AgentConfig c, long selfId, long incarnation, String peerAddress) {
        return new ReplicationSettings(c.clusterName(), c.nodeName(), selfId, incarnation, peerAddress,
                c.heartbeatInterval().toMillis(), c.failureTimeout().toMillis(), c.joinWait().toMillis(),
                c.stateTransferTimeout().toMillis(), c.nakInterval().toMillis(), c.retransmitBufferFrames(),
                c.retransmitBufferBytes(), c.receiveBufferFrames(), c.antiEntropyInterval().toMillis(),
                c.accessFlushInterval().toMillis(), c.expiryScanInterval().toMillis(), c.syncTimeout().toMillis(),
                c.replicationEnabled());
    }

    /** How often the protocol thread looks for gaps, failures and timeouts. */
    public long tickMs() {
        return Math.max(1, Math.min(10, nakIntervalMs / 2));
    }
}
