package io.sessionagent.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.VersionEntry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random local writes on one table, replicated to another over a lossy, reordering, duplicating
 * channel with repair by whole records: the replica must end equal to the origin and to a plain
 * map kept alongside.
 */
class SessionTableModelTest {
    private static final int OPS = 4_000;
    private static final long T0 = 1_700_000_000_000L;
    private static final long[] WRITERS = {1, 2, 0x8000_0000_0000_0001L};
    private static final String[] NAMES = {"a", "b", "c", "d", "e", "f"};

    private long now = T0;

    private SessionTable newTable() {
        return new SessionTable(Limits.unlimited(), () -> now, 5_000, Long.MAX_VALUE / 2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 17, 4242, 987654321})
    void replicaConvergesOnOriginAndModel(long seed) throws Exception {
        Random rnd = new Random(seed);
        SessionTable origin = newTable();
        SessionTable replica = newTable();
        Map<String, Map<String, byte[]>> model = new HashMap<>();
        List<ReplicatedDelta> inFlight = new ArrayList<>();
        Set<String> droppedIds = new HashSet<>();
        Map<ApplyOutcome, Integer> outcomes = new EnumMap<>(ApplyOutcome.class);
        List<String> ids = new ArrayList<>();
        Set<String> invalidated = new HashSet<>();
        int nextId = 0;
        for (; nextId < 20; nextId++) {
            ids.add("s" + nextId);
        }

        for (int op = 0; op < OPS; op++) {
            now += rnd.nextInt(10);
            int dice = rnd.nextInt(100);
            if (dice < 55) {
                String id = ids.get(rnd.nextInt(ids.size()));
                SessionChange change = randomChange(rnd, id, origin, model.get(id));
                long writer = WRITERS[rnd.nextInt(WRITERS.length)];
                long v = origin.writeLocal(change, writer, inFlight::add);
                assertThat(v).isEqualTo(change.getBaseVersion() + 1);
                applyToModel(model, change);
            } else if (dice < 60) {
                String id = ids.get(rnd.nextInt(ids.size()));
                boolean live = model.containsKey(id);
                assertThat(origin.invalidateLocal(id, WRITERS[rnd.nextInt(WRITERS.length)], now, 1800,
                        inFlight::add).existed()).as("invalidate %s", id).isEqualTo(live);
                // An id not written yet gets a tombstone too, which refuses its create from then on.
                model.remove(id);
                invalidated.add(id);
                ids.remove(id);
                ids.add("s" + nextId++);
            } else if (dice < 62 && !invalidated.isEmpty()) {
                String id = invalidated.iterator().next();
                long current = origin.versionOf(id).getVersion();
                SessionChange change = SessionChange.newBuilder().setId(id).setBaseVersion(current)
                        .setAccessTimeMs(now).build();
                assertThatThrownBy(() -> origin.writeLocal(change, 1, inFlight::add))
                        .isInstanceOf(StaleBaseException.class);
            } else {
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n && !inFlight.isEmpty(); i++) {
                    deliverOne(rnd, inFlight, origin, replica, droppedIds, outcomes);
                }
            }
        }
        while (!inFlight.isEmpty()) {
            deliverOne(rnd, inFlight, origin, replica, droppedIds, outcomes);
        }
        // Anti-entropy for what was lost for good.
        for (String id : droppedIds) {
            repair(origin, replica, id);
        }

        assertThat(outcomes.keySet()).as("outcomes seen").contains(ApplyOutcome.APPLIED, ApplyOutcome.DUPLICATE,
                ApplyOutcome.GAP);
        assertThat(outcomes).as("a replica only ever holds versions of the origin's history")
                .doesNotContainKeys(ApplyOutcome.CONFLICT_LOCAL_WINS, ApplyOutcome.CONFLICT_REMOTE_WINS);
        assertSameContent(origin, replica);
        assertMatchesModel(origin, model);
        assertMatchesModel(replica, model);
    }

    private SessionChange randomChange(Random rnd, String id, SessionTable origin, Map<String, byte[]> current) {
        VersionEntry v = origin.versionOf(id);
        SessionChange.Builder b = SessionChange.newBuilder().setId(id).setBaseVersion(v == null ? 0 : v.getVersion())
                .setCreationTimeMs(now).setAccessTimeMs(now).setMaxInactiveSeconds(rnd.nextBoolean() ? 1800 : 0);
        int sets = rnd.nextInt(4);
        for (int i = 0; i < sets; i++) {
            byte[] value = new byte[rnd.nextInt(9)];
            rnd.nextBytes(value);
            b.addSet(Attribute.newBuilder().setName(NAMES[rnd.nextInt(NAMES.length)])
                    .setValue(ByteString.copyFrom(value)));
        }
        int removes = rnd.nextInt(3);
        for (int i = 0; i < removes; i++) {
            // Present or not, and sometimes also set by the same change.
            b.addRemoved(NAMES[rnd.nextInt(NAMES.length)]);
        }
        return b.build();
    }

    /** The reference semantics: removals first, then sets, later sets of a name win. */
    private static void applyToModel(Map<String, Map<String, byte[]>> model, SessionChange change) {
        Map<String, byte[]> attrs = model.computeIfAbsent(change.getId(), k -> new HashMap<>());
        for (String name : change.getRemovedList()) {
            attrs.remove(name);
        }
        for (Attribute a : change.getSetList()) {
            attrs.put(a.getName(), a.getValue().toByteArray());
        }
    }

    private static void deliverOne(Random rnd, List<ReplicatedDelta> inFlight, SessionTable origin,
                                   SessionTable replica, Set<String> droppedIds,
                                   Map<ApplyOutcome, Integer> outcomes) {
        ReplicatedDelta d = inFlight.remove(rnd.nextInt(inFlight.size()));
        int dice = rnd.nextInt(100);
        if (dice < 8) {
            // Lost: repaired now, or later by anti-entropy.
            if (rnd.nextBoolean()) {
                repair(origin, replica, d.getId());
            } else {
                droppedIds.add(d.getId());
            }
            return;
        }
        if (dice < 20) {
            inFlight.add(rnd.nextInt(inFlight.size() + 1), d);
        }
        ApplyOutcome outcome = replica.applyReplicated(d);
        outcomes.merge(outcome, 1, Integer::sum);
        if (outcome.needsFetch()) {
            repair(origin, replica, d.getId());
        }
    }

    private static void repair(SessionTable origin, SessionTable replica, String id) {
        origin.getForPeer(id).ifPresent(replica::merge);
    }

    private static void assertSameContent(SessionTable origin, SessionTable replica) {
        assertThat(replica.tableHash()).as("table hash").isEqualTo(origin.tableHash());
        assertThat(replica.liveCount()).as("live count").isEqualTo(origin.liveCount());
        assertThat(replica.liveBytes()).as("live bytes").isEqualTo(origin.liveBytes());
        assertThat(replica.tombstoneCount()).as("tombstones").isEqualTo(origin.tombstoneCount());
        Map<String, SessionRecord> a = records(origin);
        Map<String, SessionRecord> b = records(replica);
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String id : a.keySet()) {
            SessionRecord ra = a.get(id);
            SessionRecord rb = b.get(id);
            assertThat(rb.getVersion()).as("version of %s", id).isEqualTo(ra.getVersion());
            assertThat(rb.getWriter()).as("writer of %s", id).isEqualTo(ra.getWriter());
            assertThat(rb.getInvalidated()).as("invalidated %s", id).isEqualTo(ra.getInvalidated());
            if (!ra.getInvalidated()) {
                assertThat(rb).as("record %s", id).isEqualTo(ra);
            }
        }
    }

    /** Every record, with attributes sorted by name so that records compare by content. */
    private static Map<String, SessionRecord> records(SessionTable t) {
        Map<String, SessionRecord> out = new TreeMap<>();
        t.forEachRecord(r -> {
            List<Attribute> sorted = new ArrayList<>(r.getAttributesList());
            sorted.sort((x, y) -> x.getName().compareTo(y.getName()));
            out.put(r.getId(), r.toBuilder().clearAttributes().addAllAttributes(sorted).build());
        });
        return out;
    }

    private static void assertMatchesModel(SessionTable t, Map<String, Map<String, byte[]>> model) {
        assertThat(t.liveCount()).isEqualTo(model.size());
        Map<String, Map<String, ByteString>> expected = new TreeMap<>();
        model.forEach((id, attrs) -> {
            Map<String, ByteString> m = new TreeMap<>();
            attrs.forEach((name, value) -> m.put(name, ByteString.copyFrom(value)));
            expected.put(id, m);
        });
        Map<String, Map<String, ByteString>> actual = new TreeMap<>();
        t.forEachRecord(r -> {
            if (!r.getInvalidated()) {
                Map<String, ByteString> m = new TreeMap<>();
                r.getAttributesList().forEach(a -> m.put(a.getName(), a.getValue()));
                actual.put(r.getId(), m);
            }
        });
        assertThat(actual).isEqualTo(expected);
        for (String id : model.keySet()) {
            assertThat(t.get(id)).as("get %s", id).isPresent();
        }
    }
}
