package io.sessionagent.agent.store;

/** What {@link SessionTable#applyReplicated} did with a delta from another member. */
public enum ApplyOutcome {
    /** The delta's base was the local version: applied. */
    APPLIED,
    /**
     * The table holds the delta's version or held it before the one it holds (a re-delivery), or
     * the version is older than the history the table keeps: nothing to do.
     */
    DUPLICATE,
    /** The delta builds on a version this table has not seen: the session must be fetched whole. */
    GAP,
    /**
     * A concurrent version that loses to the local one by the conflict rule (the same version by a
     * lower writer, or an older version another writer wrote on a branch the local lineage lacks): ignored.
     */
    CONFLICT_LOCAL_WINS,
    /** A concurrent version that beats the local one: the winner must be fetched whole. */
    CONFLICT_REMOTE_WINS,
    /** The delta builds on a version this table has not seen but carries the whole session: taken. */
    WHOLE_OVER_GAP,
    /** A concurrent version that beats the local one and carries the whole session: taken. */
    WHOLE_OVER_CONFLICT;

    /** True when the caller should fetch the session whole from the delta's writer. */
    public boolean needsFetch() {
        return this == GAP || this == CONFLICT_REMOTE_WINS;
    }

    /** True when the table now holds the delta's version. */
    public boolean applied() {
        return this == APPLIED || this == WHOLE_OVER_GAP || this == WHOLE_OVER_CONFLICT;
    }
}
