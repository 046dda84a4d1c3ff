package io.sessionagent.agent.store;

/**
 * A version of a session dropped by the conflict rule because another member wrote a concurrent
 * one that beats it (or that it loses to): the writes of the dropped branch since the fork are
 * gone from this table.
 *
 * @param held         true when the dropped version was the one this table held (replaced by the
 *                     winner), false when it arrived from another member and was refused
 * @param acknowledged true when the dropped branch holds a write that waited for replicas (a sync
 *                     durability) above the fork: its writer may have been told it was replicated
 */
public record DiscardedBranch(String id, boolean held, long droppedVersion, long droppedWriter, long keptVersion,
                              long keptWriter, boolean acknowledged) {
}
