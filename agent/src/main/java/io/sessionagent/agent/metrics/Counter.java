package io.sessionagent.agent.metrics;

/**
 * The one catalogue of the agent's counters. Components increment them where the event happens;
 * exporters (the cluster view, Prometheus) read them at their own pace, so counting costs one
 * {@link java.util.concurrent.atomic.LongAdder} increment on the hot path and nothing else.
 */
public enum Counter {
    FRAMES_SENT("frames.sent", "frames", "Datagrams sent to the group, retransmissions included"),
    FRAMES_RECEIVED("frames.received", "frames", "Datagrams received from the group that passed decoding"),
    FRAMES_DROPPED_MALFORMED("frames.dropped.malformed", "frames", "Datagrams dropped: too short, bad magic, bad fields or an unparsable body"),
    FRAMES_DROPPED_VERSION("frames.dropped.version", "frames", "Datagrams dropped: unsupported protocol version"),
    FRAMES_DROPPED_FOREIGN_CLUSTER("frames.dropped.foreign_cluster", "frames", "Datagrams dropped: they belong to another cluster"),
    FRAMES_DROPPED_OVERSIZED("frames.dropped.oversized", "frames", "Datagrams dropped: larger than max-datagram-bytes"),
    FRAMES_DROPPED_AUTH("frames.dropped.auth", "frames", "Datagrams dropped: not sealed with a cluster key this agent holds, or failing authentication"),
    FRAMES_DROPPED_REPLAY("frames.dropped.replay", "frames", "Datagrams dropped: authentic control frames received before (replays)"),
    FRAMES_DROPPED_DUPLICATE_MEMBER("frames.dropped.duplicate_member", "frames", "Datagrams dropped: another process uses this node's name"),
    FRAMES_DROPPED_WINDOW_FULL("frames.dropped.window_full", "frames", "Datagrams dropped: the receive window for their sender was full"),
    FRAMES_DROPPED_UNKNOWN_MEMBER("frames.dropped.unknown_member", "frames", "Data datagrams dropped: their sender is not in the view (no heartbeat heard from it)"),
    FRAMES_DUPLICATE("frames.duplicate", "frames", "Data datagrams received more than once (retransmissions and duplicates)"),
    FRAMES_DROPPED_OVERLOAD("frames.dropped.overload", "frames", "Datagrams dropped: the protocol thread was too far behind"),
    SEND_ERRORS("send.errors", "frames", "Datagrams the socket refused to send"),
    DELTAS_SENT("deltas.sent", "deltas", "Session deltas handed to the group for the first time"),
    DELTAS_RECEIVED("deltas.received", "deltas", "Session deltas delivered in order from other members"),
    DELTAS_APPLIED("deltas.applied", "deltas", "Received deltas applied to the table"),
    DELTAS_DUPLICATE("deltas.duplicate", "deltas", "Received deltas of a version this table holds or held (re-deliveries), or older than the history it keeps"),
    DELTAS_OUT_OF_ORDER("deltas.out_of_order", "deltas", "Received deltas whose base version was ahead of the table (session repaired)"),
    DELTAS_RESENT_WHOLE("deltas.resent_whole", "sessions", "Sessions re-sent whole because a replica could not apply their delta"),
    DELTAS_WHOLE_OVER_GAP("deltas.whole_over_gap", "deltas", "Received whole deltas taken although the table lacked their base version (no repair needed)"),
    TOUCHES_SENT("touches.sent", "touches", "Coalesced pure accesses sent"),
    TOUCHES_RECEIVED("touches.received", "touches", "Pure accesses received"),
    BATCHES_SENT("batches.sent", "batches", "Data batches sent (each one or more datagrams)"),
    FRAGMENTED_BATCHES_SENT("batches.fragmented", "batches", "Data batches that needed more than one datagram"),
    GAPS_DETECTED("gaps.detected", "gaps", "Sequence gaps seen in a sender's stream"),
    NAKS_SENT("naks.sent", "messages", "Retransmission requests sent"),
    NAKS_RECEIVED("naks.received", "messages", "Retransmission requests received for this member"),
    RETRANSMITS_SENT("retransmits.sent", "frames", "Datagrams sent again on request"),
    GONE_SENT("gone.sent", "messages", "Answers that a requested sequence left the retransmit buffer"),
    GAPS_UNRECOVERABLE("gaps.unrecoverable", "frames", "Gaps skipped because the sender no longer had the data (repaired by anti-entropy)"),
    SESSION_REPAIRS("repairs.sessions", "sessions", "Sessions fetched whole from a peer to repair a gap or conflict"),
    ANTI_ENTROPY_RUNS("anti_entropy.runs", "runs", "Anti-entropy exchanges completed with a peer"),
    ANTI_ENTROPY_RECORDS("anti_entropy.records", "records", "Records pulled by anti-entropy"),
    ANTI_ENTROPY_FAILURES("anti_entropy.failures", "runs", "Anti-entropy exchanges that failed"),
    STATE_TRANSFERS("state_transfer.completed", "transfers", "State transfers received at join"),
    STATE_TRANSFER_RECORDS("state_transfer.records", "records", "Records received by state transfer"),
    STATE_TRANSFER_BYTES("state_transfer.bytes", "bytes", "Serialized record bytes received by state transfer"),
    STATE_TRANSFER_TIMEOUTS("state_transfer.timeouts", "joins", "Joins that reported ready after state-transfer-timeout without a full transfer"),
    SNAPSHOTS_SERVED("snapshots.served", "snapshots", "Snapshots streamed to joining members"),
    CONFLICTS("conflicts.resolved", "conflicts", "Concurrent versions of one session resolved by the conflict rule"),
    BRANCHES_DISCARDED_HELD("conflicts.held_branches_discarded", "versions", "Versions held here replaced by a concurrent version of another writer that beats them (their branch dropped)"),
    BRANCHES_DISCARDED_INCOMING("conflicts.incoming_branches_discarded", "versions", "Concurrent versions of another writer received and refused because the held version beats them (their branch dropped)"),
    ACKNOWLEDGED_WRITES_DISCARDED("conflicts.acknowledged_writes_discarded", "branches", "Dropped branches holding a write that waited for replicas (sync durability) made after the fork"),
    SYNC_WRITES("sync.writes", "writes", "Writes that waited for replica acknowledgements"),
    SYNC_TIMEOUTS("sync.timeouts", "writes", "Sync writes answered after sync-timeout without every acknowledgement"),
    ACKS_SENT("acks.sent", "messages", "Acknowledgements of delivered data sent (one per sender and burst)"),
    PROTOCOL_ERRORS("protocol.errors", "errors", "Tasks of the protocol thread (frames, ticks, flushes, peer call results) that failed with an unexpected error; the first of each kind is logged"),
    VIEW_CHANGES("view.changes", "changes", "Changes of this agent's view of the cluster"),
    MEMBERS_SUSPECTED("members.failed", "members", "Members dropped after failure-timeout of silence"),
    MEMBERS_LEFT("members.left", "members", "Members that left in order"),
    SESSIONS_EXPIRED("sessions.expired", "sessions", "Sessions expired by inactivity"),
    TOMBSTONES_REFUSED("tombstones.refused", "changes", "Local writes, replicated deltas and records of an invalidated session refused by its tombstone"),
    TOMBSTONES_EVICTED("tombstones.evicted", "tombstones", "Tombstones removed before the end of their life because the table held more than max-tombstones"),
    RECORDS_REFUSED_EXPIRED("records.refused_expired", "records", "Records from a peer (state transfer, repair, anti-entropy) refused because they had expired by their own last access and timeout"),
    PEER_AUTH_FAILURES("peer.auth_failures", "messages", "Peer channel messages refused: not sealed with a cluster key this agent holds"),
    KEY_RELOADS("keys.reloads", "reloads", "Key file changes taken into use"),
    KEY_RELOAD_FAILURES("keys.reload_failures", "reloads", "Key file changes refused (unreadable or invalid file; the previous keys stay)"),
    LIMIT_REJECTIONS("limits.rejected", "writes", "Local writes refused by a size or count limit"),
    READS_WAITED("reads.waited", "reads", "Session reads that waited for this agent to apply what it had received of the session (a failover right after a member died)"),
    READS_UNAVAILABLE("reads.unavailable", "reads", "Session reads answered UNAVAILABLE because what this agent had received was still not applied after failover-read-wait"),
    ADMIN_REFUSED("admin.refused", "requests", "Mutating admin requests refused: no or a wrong token, or no admin-token-file while the admin port is not on loopback"),
    GRPC_UNAUTHENTICATED("grpc.unauthenticated", "calls", "SessionService calls refused: no or a wrong API token (api-token-file)"),
    GRPC_INVALID_ARGUMENT("grpc.invalid_argument", "calls", "SessionService calls refused as invalid"),
    WRITE_CONFLICTS("writes.stale_base", "writes", "Local writes refused because their base version was stale");

    private final String metricName;
    private final String baseUnit;
    private final String description;

    Counter(String metricName, String baseUnit, String description) {
        this.metricName = metricName;
        this.baseUnit = baseUnit;
        this.description = description;
    }

    /** Dotted name, as exported (e.g. {@code frames.dropped.malformed}). */
    public String metricName() {
        return metricName;
    }

    /** What one count is (frames, deltas, bytes, ...), as the exported meter's base unit. */
    public String baseUnit() {
        return baseUnit;
    }

    public String description() {
        return description;
    }
}
