package io.sessionagent.bench.cluster;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.Agent;
import io.sessionagent.agent.store.LimitExceededException;
import io.sessionagent.agent.store.StaleBaseException;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;

/**
 * Commits 1 KB attribute writes on one agent the way its SessionService does (table write, then
 * the committed delta handed to the replicator), without the gRPC hop: the figure is the
 * agent-to-agent path, as JGroups' is channel to channel. The first 8 bytes of every value carry
 * {@link System#nanoTime()} at commit, for the lag measured on the replica. One thread only.
 */
final class Writer {
    static final String ATTRIBUTE = "payload";

    private final Agent agent;
    private final String[] ids;
    private final long[] versions;
    private final byte[] value;
    private int next;

    Writer(Agent agent, String prefix, int sessions, int valueBytes) {
        this.agent = agent;
        this.ids = new String[sessions];
        this.versions = new long[sessions];
        for (int i = 0; i < sessions; i++) {
            ids[i] = prefix + "-" + i + "-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
        }
        this.value = new byte[valueBytes];
        for (int i = 8; i < valueBytes; i++) {
            value[i] = (byte) (i * 31);
        }
    }

    /** Writes the next session in turn (round robin over the sessions); returns the commit nanoTime. */
    long write(boolean replicate) {
        int i = next;
        next = next + 1 == ids.length ? 0 : next + 1;
        long now = System.nanoTime();
        for (int b = 0; b < 8; b++) {
            value[b] = (byte) (now >>> (56 - 8 * b));
        }
        long wall = System.currentTimeMillis();
        SessionChange change = SessionChange.newBuilder()
                .setId(ids[i])
                .setBaseVersion(versions[i])
                .setCreationTimeMs(wall)
                .setAccessTimeMs(wall)
                .setMaxInactiveSeconds(1800)
                .addSet(Attribute.newBuilder().setName(ATTRIBUTE).setValue(ByteString.copyFrom(value)))
                .build();
        try {
            versions[i] = agent.table().writeLocal(change, agent.memberId(),
                    replicate ? d -> agent.replicator().replicate(d, null) : d -> {
                    });
        } catch (StaleBaseException | LimitExceededException e) {
            throw new IllegalStateException("benchmark write refused: " + e.getMessage(), e);
        }
        return now;
    }

    /** The commit nanoTime a written value carries. */
    static long committedAt(ByteString value) {
        long t = 0;
        for (int b = 0; b < 8; b++) {
            t = (t << 8) | (value.byteAt(b) & 0xff);
        }
        return t;
    }
}
