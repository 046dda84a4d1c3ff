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
    private final int maxBatches;
    private final List<DataBatch> batches = new ArrayList<>();
    private boolean lostData;

    JoinBuffer(int maxBatches) {
        this.maxBatches = maxBatches;
    }

    void add(DataBatch batch) {
        if (batches.size() < maxBatches) {
            batches.add(batch);
        } else {
            // What does not fit is pulled from every member once the join is done.
            lostData = true;
        }
    }

    /** Part of some sender's stream was given up while joining. */
    void noteLostData() {
        lostData = true;
    }

    boolean lostData() {
        return lostData;
    }

    /** The batches in arrival order. */
    List<DataBatch> batches() {
        return batches;
    }

    void clear() {
        batches.clear();
    }
}
