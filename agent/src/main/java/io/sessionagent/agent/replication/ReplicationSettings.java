package io.sessionagent.agent.replication;

/**
 * What the replication protocol needs from the configuration, in milliseconds and counts.
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

    /** How often the protocol thread looks for gaps, failures and timeouts. */
    public long tickMs() {
        return Math.max(1, Math.min(10, nakIntervalMs / 2));
    }
}
