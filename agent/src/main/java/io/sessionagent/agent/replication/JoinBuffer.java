package io.sessionagent.agent.replication;

import io.sessionagent.proto.v1.DataBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * Batches delivered while this agent is JOINING, held until the state transfer is over so that
 * they are applied on top of the transferred records. Bounded; an overflow, or a range of
 * a sender skipped while joining, is remembered so that anti-entropy at READY also runs with the
 * transfer source. Confined to the protocol thread.
 */
final class JoinBuffer {
    /** A batch, and where it came from: the sequence that completed it in its sender's stream. */
    record Entry(long sender, long incarnation, long sequence, DataBatch batch) {
    }

    private final int maxBatches;
    private final List<Entry> entries = new ArrayList<>();
    private boolean lostData;

    JoinBuffer(int maxBatches) {
        this.maxBatches = maxBatches;
    }

    /** @return false when the buffer is full and the batch was not kept */
    boolean add(long sender, long incarnation, long sequence, DataBatch batch) {
        if (entries.size() < maxBatches) {
            entries.add(new Entry(sender, incarnation, sequence, batch));
            return true;
        }
        // What does not fit is pulled from every member once the join is done.
        lostData = true;
        return false;
    }

    /** Part of some sender's stream was given up while joining. */
    void noteLostData() {
        lostData = true;
    }

    boolean lostData() {
        return lostData;
    }

    /** The batches in arrival order. */
    List<Entry> entries() {
        return entries;
    }

    void clear() {
        entries.clear();
    }
}
