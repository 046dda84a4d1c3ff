package io.sessionagent.agent.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.metrics.Counter;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.VersionEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SessionTableTest {
    private static final long GRACE_MS = 5_000;
    private static final long TOMBSTONE_TTL_MS = 60_000;
    private static final long T0 = 1_700_000_000_000L;
    private static final long A = 1;
    private static final long B = 2;
    /** Negative as a signed long, the highest as an unsigned one. */
    private static final long HIGH_BIT = 0x8000_0000_0000_0001L;

    private long now = T0;
    private final List<ReplicatedDelta> sent = new ArrayList<>();

    private SessionTable table() {
        return table(Limits.unlimited());
    }

    private SessionTable table(Limits limits) {
        return new SessionTable(limits, () -> now, GRACE_MS, TOMBSTONE_TTL_MS);
    }

    private static SessionChange change(String id, long base, String... namesAndValues) {
        return change(id, base, 1800, namesAndValues);
    }

    private static SessionChange change(String id, long base, int maxInactiveSeconds, String... namesAndValues) {
        SessionChange.Builder b = SessionChange.newBuilder().setId(id).setBaseVersion(base)
                .setCreationTimeMs(T0).setAccessTimeMs(T0).setMaxInactiveSeconds(maxInactiveSeconds);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.addSet(attr(namesAndValues[i], namesAndValues[i + 1]));
        }
        return b.build();
    }

    private static Attribute attr(String name, String value) {
        return Attribute.newBuilder().setName(name).setValue(ByteString.copyFromUtf8(value)).build();
    }

    private long write(SessionTable t, SessionChange c, long writer) throws Exception {
        return t.writeLocal(c, writer, sent::add);
    }

    private static ReplicatedDelta.Builder delta(String id, long base, long baseWriter, long version, long writer) {
        return ReplicatedDelta.newBuilder().setId(id).setBaseVersion(base).setBaseWriter(baseWriter)
                .setNewVersion(version).setWriter(writer).setCreationTimeMs(T0).setAccessTimeMs(T0)
                .setMaxInactiveSeconds(1800);
    }

    private static SessionRecord.Builder record(String id, long version, long writer, long accessMs,
                                                String... namesAndValues) {
        SessionRecord.Builder b = SessionRecord.newBuilder().setId(id).setVersion(version).setWriter(writer)
                .setCreationTimeMs(T0).setLastAccessTimeMs(accessMs).setMaxInactiveSeconds(1800);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.addAttributes(attr(namesAndValues[i], namesAndValues[i + 1]));
        }
        return b;
    }

    private static Map<String, String> attributes(SessionRecord r) {
        Map<String, String> m = new HashMap<>();
        for (Attribute a : r.getAttributesList()) {
            m.put(a.getName(), a.getValue().toString(StandardCharsets.UTF_8));
        }
        return m;
    }

    private static Map<String, String> attributesOf(SessionTable t, String id) {
        return attributes(t.get(id).orElseThrow());
    }

    private static long versionOf(SessionTable t, String id) {
        VersionEntry v = t.versionOf(id);
        return v == null ? 0 : v.getVersion();
    }

    // ------------------------------------------------------------------ local writes

    @Test
    void firstWriteCreatesVersionOneAndHandsOverADeltaFromBaseZero() throws Exception {
        SessionTable t = table();

        long v = write(t, change("s1", 0, "user", "alice"), A);

        assertThat(v).isEqualTo(1);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("user", "alice"));
        assertThat(sent).singleElement().satisfies(d -> {
            assertThat(d.getId()).isEqualTo("s1");
            assertThat(d.getBaseVersion()).isZero();
            assertThat(d.getBaseWriter()).isZero();
            assertThat(d.getNewVersion()).isEqualTo(1);
            assertThat(d.getWriter()).isEqualTo(A);
            assertThat(d.getSetList()).containsExactly(attr("user", "alice"));
        });
    }

    @Test
    void everyLocalWriteAddsOneToTheVersionAndNamesItsBase() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "b", "2"), B);

        long v3 = write(t, change("s1", 2, "a", "3"), A);

        assertThat(v3).isEqualTo(3);
        assertThat(t.versionOf("s1").getWriter()).isEqualTo(A);
        assertThat(attributesOf(t, "s1")).isEqualTo(Map.of("a", "3", "b", "2"));
        assertThat(sent).extracting(ReplicatedDelta::getNewVersion).containsExactly(1L, 2L, 3L);
        assertThat(sent.get(2).getBaseVersion()).isEqualTo(2);
        assertThat(sent.get(2).getBaseWriter()).isEqualTo(B);
    }

    @Test
    void removedAttributesDisappearAndASetOfTheSameNameWins() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1", "b", "2", "c", "3"), A);

        t.writeLocal(change("s1", 1, "c", "new").toBuilder().addRemoved("a").addRemoved("c").build(), A, sent::add);

        assertThat(attributesOf(t, "s1")).isEqualTo(Map.of("b", "2", "c", "new"));
    }

    @Test
    void staleBaseIsRefusedWithTheCurrentVersionAndChangesNothing() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        long hash = t.tableHash();
        sent.clear();

        assertThatThrownBy(() -> write(t, change("s1", 1, "a", "lost"), A))
                .isInstanceOfSatisfying(StaleBaseException.class,
                        e -> assertThat(e.currentVersion()).isEqualTo(2));

        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "2"));
        assertThat(versionOf(t, "s1")).isEqualTo(2);
        assertThat(t.tableHash()).isEqualTo(hash);
        assertThat(sent).isEmpty();
    }

    @Test
    void changeBasedOnAVersionOfAnUnknownSessionIsStaleAtVersionZero() {
        SessionTable t = table();

        assertThatThrownBy(() -> write(t, change("s1", 4, "a", "1"), A))
                .isInstanceOfSatisfying(StaleBaseException.class,
                        e -> assertThat(e.currentVersion()).isZero());
        assertThat(t.getForPeer("s1")).isEmpty();
        assertThat(t.liveCount()).isZero();
    }

    @Test
    void invalidatedSessionRefusesWritesEvenOnItsTombstoneVersion() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        assertThat(t.invalidateLocal("s1", A, now, 0, sent::add).version()).isEqualTo(2);
        sent.clear();

        for (long base : new long[] {0, 1, 2}) {
            assertThatThrownBy(() -> write(t, change("s1", base, "a", "2"), A))
                    .isInstanceOfSatisfying(StaleBaseException.class,
                            e -> assertThat(e.currentVersion()).isEqualTo(2));
        }
        assertThat(sent).isEmpty();
        assertThat(t.get("s1")).isEmpty();
        assertThat(t.getForPeer("s1")).hasValueSatisfying(r -> assertThat(r.getInvalidated()).isTrue());
    }

    @Test
    void invalidationLeavesATombstoneAndHandsOverAnInvalidatingDelta() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), B);
        sent.clear();

        assertThat(t.invalidateLocal("s1", A, T0 + 10, 0, sent::add))
                .isEqualTo(new SessionTable.Invalidation(2, true));

        assertThat(sent).singleElement().satisfies(d -> {
            assertThat(d.getInvalidate()).isTrue();
            assertThat(d.getBaseVersion()).isEqualTo(1);
            assertThat(d.getBaseWriter()).isEqualTo(B);
            assertThat(d.getNewVersion()).isEqualTo(2);
            assertThat(d.getWriter()).isEqualTo(A);
            assertThat(d.getAccessTimeMs()).isEqualTo(T0 + 10);
        });
        SessionRecord tomb = t.getForPeer("s1").orElseThrow();
        assertThat(tomb.getInvalidated()).isTrue();
        assertThat(tomb.getAttributesList()).isEmpty();
        assertThat(t.liveCount()).isZero();
        assertThat(t.liveBytes()).isZero();
        assertThat(t.tombstoneCount()).isEqualTo(1);
    }

    @Test
    void invalidatingAnAlreadyInvalidatedSessionDoesNothing() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        t.invalidateLocal("s1", A, now, 0, sent::add);
        sent.clear();

        assertThat(t.invalidateLocal("s1", A, now, 0, sent::add)).isEqualTo(new SessionTable.Invalidation(2, false));

        assertThat(sent).isEmpty();
        assertThat(versionOf(t, "s1")).isEqualTo(2);
        assertThat(t.tombstoneCount()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ limits

    private void assertRefusedUnchanged(SessionTable t, SessionChange c, String limitName) {
        long count = t.liveCount();
        long bytes = t.liveBytes();
        long hash = t.tableHash();
        VersionEntry before = t.versionOf(c.getId());
        Map<String, String> attrsBefore = t.get(c.getId()).map(SessionTableTest::attributes).orElse(null);
        sent.clear();

        assertThatThrownBy(() -> write(t, c, A))
                .isInstanceOf(LimitExceededException.class)
                .hasMessageContaining(limitName);

        assertThat(t.liveCount()).isEqualTo(count);
        assertThat(t.liveBytes()).isEqualTo(bytes);
        assertThat(t.tableHash()).isEqualTo(hash);
        assertThat(t.versionOf(c.getId())).isEqualTo(before);
        assertThat(t.get(c.getId()).map(SessionTableTest::attributes).orElse(null)).isEqualTo(attrsBefore);
        assertThat(sent).isEmpty();
    }

    @Test
    void sessionOverMaxSessionBytesIsRefused() throws Exception {
        // "s1" + "a" + "1234567" = 10 bytes.
        SessionTable t = table(new Limits(10, 100, 100, 1_000_000));
        assertRefusedUnchanged(t, change("s1", 0, "a", "12345678"), "max-session-bytes");

        assertThat(write(t, change("s1", 0, "a", "1234567"), A)).isEqualTo(1);
        assertThat(t.liveBytes()).isEqualTo(10);
        assertRefusedUnchanged(t, change("s1", 1, "b", ""), "max-session-bytes");
    }

    @Test
    void sessionOverMaxAttributesIsRefused() throws Exception {
        SessionTable t = table(new Limits(1_000, 2, 100, 1_000_000));
        assertRefusedUnchanged(t, change("s1", 0, "a", "1", "b", "2", "c", "3"), "max-attributes");

        write(t, change("s1", 0, "a", "1", "b", "2"), A);
        assertRefusedUnchanged(t, change("s1", 1, "c", "3"), "max-attributes");
        // Replacing an attribute does not add one.
        assertThat(write(t, change("s1", 1, "a", "x"), A)).isEqualTo(2);
    }

    @Test
    void newSessionBeyondMaxSessionsIsRefusedButExistingOnesMayChange() throws Exception {
        SessionTable t = table(new Limits(1_000, 100, 2, 1_000_000));
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s2", 0, "a", "1"), A);

        assertRefusedUnchanged(t, change("s3", 0, "a", "1"), "max-sessions");
        assertThat(t.getForPeer("s3")).isEmpty();

        assertThat(write(t, change("s1", 1, "a", "2"), A)).isEqualTo(2);
        t.invalidateLocal("s2", A, now, 0, sent::add);
        assertThat(write(t, change("s3", 0, "a", "1"), A)).isEqualTo(1);
        assertThat(t.liveCount()).isEqualTo(2);
    }

    @Test
    void growthBeyondMaxTotalBytesIsRefusedButShrinkingIsNot() throws Exception {
        // Each session: "sN" + "a" + 7 bytes = 10 bytes.
        SessionTable t = table(new Limits(1_000, 100, 100, 25));
        write(t, change("s1", 0, "a", "1234567"), A);
        write(t, change("s2", 0, "a", "1234567"), A);

        assertRefusedUnchanged(t, change("s3", 0, "a", "1234567"), "max-total-bytes");
        assertRefusedUnchanged(t, change("s1", 1, "a", "12345678901234"), "max-total-bytes");

        assertThat(write(t, change("s1", 1, "a", "123456789012"), A)).isEqualTo(2);
        assertThat(t.liveBytes()).isEqualTo(25);
        assertThat(write(t, change("s2", 1, "a", ""), A)).isEqualTo(2);
        assertThat(t.liveBytes()).isEqualTo(18);
    }

    @Test
    void replicatedDeltasAreNotSubjectToLocalLimits() {
        SessionTable t = table(new Limits(5, 1, 1, 5));

        assertThat(t.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr("a", "123456")).addSet(attr("b", "x"))
                .build())).isEqualTo(ApplyOutcome.APPLIED);
        assertThat(t.applyReplicated(delta("s2", 0, 0, 1, B).addSet(attr("a", "123456")).build()))
                .isEqualTo(ApplyOutcome.APPLIED);
        assertThat(t.liveCount()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ applyReplicated

    @Test
    void deltaFromBaseZeroCreatesTheSession() {
        SessionTable t = table();

        ApplyOutcome o = t.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr("a", "1")).build());

        assertThat(o).isEqualTo(ApplyOutcome.APPLIED);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));
        assertThat(t.versionOf("s1")).isEqualTo(VersionEntry.newBuilder().setId("s1").setVersion(1).setWriter(B)
                .build());
    }

    @Test
    void deltaWhoseBaseMatchesVersionAndWriterIsApplied() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1", "b", "2"), A);

        ApplyOutcome o = t.applyReplicated(delta("s1", 1, A, 2, B).addSet(attr("c", "3")).addRemoved("a").build());

        assertThat(o).isEqualTo(ApplyOutcome.APPLIED);
        assertThat(o.needsFetch()).isFalse();
        assertThat(attributesOf(t, "s1")).isEqualTo(Map.of("b", "2", "c", "3"));
        assertThat(t.versionOf("s1").getWriter()).isEqualTo(B);
        assertThat(versionOf(t, "s1")).isEqualTo(2);
    }

    @Test
    void sessionsShareOneInstanceOfEachAttributeName() {
        SessionTable t = table();

        // Each parsed delta or record brings its own copy of the name.
        t.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr(new String("cart"), "1")).build());
        t.applyReplicated(delta("s2", 0, 0, 1, B).addSet(attr(new String("cart"), "2")).build());
        t.merge(record("s3", 1, B, T0, new String("cart"), "3").build());

        String name = t.get("s1").orElseThrow().getAttributes(0).getName();
        assertThat(t.get("s2").orElseThrow().getAttributes(0).getName()).isSameAs(name);
        assertThat(t.get("s3").orElseThrow().getAttributes(0).getName()).isSameAs(name);
    }

    @Test
    void theApplyObserverSeesAppliedDeltasOnlyInApplyOrder() {
        SessionTable t = table();
        List<String> seen = new ArrayList<>();
        t.observeReplicatedApplies(d -> seen.add(d.getId() + "@" + d.getNewVersion()));

        t.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr("a", "1")).build());
        t.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr("a", "1")).build());
        t.applyReplicated(delta("s2", 3, B, 4, B).addSet(attr("a", "1")).build());
        t.applyReplicated(delta("s1", 1, B, 2, B).addSet(attr("a", "2")).build());

        // The duplicate and the gap change nothing, so the observer does not hear of them.
        assertThat(seen).containsExactly("s1@1", "s1@2");
    }

    @Test
    void deltaOfTheHeldVersionIsADuplicate() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        long hash = t.tableHash();

        assertThat(t.applyReplicated(sent.get(1))).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 1, A, 2, A).addSet(attr("a", "other")).build()))
                .isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "2"));
        assertThat(t.tableHash()).isEqualTo(hash);
    }

    @Test
    void redeliveryOfAnOlderVersionOfTheHeldLineageIsADuplicate() throws Exception {
        SessionTable t = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        t.observeDiscardedBranches(discarded::add);
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        write(t, change("s1", 2, "a", "3"), A);

        assertThat(t.applyReplicated(sent.get(0))).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(sent.get(1))).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "3"));
        assertThat(versionOf(t, "s1")).isEqualTo(3);
        assertThat(discarded).isEmpty();
    }

    @Test
    void olderVersionByAnotherWriterIsAConcurrentBranchThatLosesAndIsReported() throws Exception {
        SessionTable t = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        t.observeDiscardedBranches(discarded::add);
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        write(t, change("s1", 2, "a", "3"), A);
        long hash = t.tableHash();

        ApplyOutcome o = t.applyReplicated(delta("s1", 1, A, 2, HIGH_BIT).addSet(attr("b", "x")).setSync(true)
                .build());

        assertThat(o).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(o.needsFetch()).isFalse();
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "3"));
        assertThat(t.tableHash()).isEqualTo(hash);
        assertThat(discarded).containsExactly(new DiscardedBranch("s1", false, 2, HIGH_BIT, 3, A, true));
    }

    @Test
    void theLineageTellsRedeliveriesFromBranchesAcrossWriterChanges() throws Exception {
        SessionTable t = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        t.observeDiscardedBranches(discarded::add);
        t.applyReplicated(delta("s1", 0, 0, 1, A).addSet(attr("a", "1")).build());
        t.applyReplicated(delta("s1", 1, A, 2, A).addSet(attr("a", "2")).build());
        t.applyReplicated(delta("s1", 2, A, 3, B).addSet(attr("a", "3")).build());
        write(t, change("s1", 3, "a", "4"), A);
        write(t, change("s1", 4, "a", "5"), A);

        assertThat(t.applyReplicated(delta("s1", 1, A, 2, A).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 2, A, 3, B).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 3, B, 4, A).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(discarded).isEmpty();

        assertThat(t.applyReplicated(delta("s1", 2, A, 3, A).build())).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(t.applyReplicated(delta("s1", 3, B, 4, B).build())).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(discarded).extracting(DiscardedBranch::droppedVersion, DiscardedBranch::droppedWriter,
                DiscardedBranch::held, DiscardedBranch::acknowledged)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(3L, A, false, false),
                        org.assertj.core.groups.Tuple.tuple(4L, B, false, false));
    }

    @Test
    void theLineageTravelsWithTheRecordSoAReplicaTakenWholeStillKnowsItsHistory() throws Exception {
        SessionTable origin = table();
        origin.applyReplicated(delta("s1", 0, 0, 1, B).addSet(attr("a", "1")).build());
        write(origin, change("s1", 1, "a", "2"), A);
        write(origin, change("s1", 2, "a", "3"), A);
        SessionTable replica = table();
        assertThat(replica.merge(origin.getForPeer("s1").orElseThrow())).isTrue();

        assertThat(replica.applyReplicated(delta("s1", 0, 0, 1, B).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(replica.applyReplicated(sent.get(0))).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(replica.applyReplicated(delta("s1", 1, B, 2, B).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
    }

    @Test
    void aRecordWithoutLineageFromAnOlderAgentLeavesOlderVersionsDuplicatesAsBefore() {
        SessionTable t = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        t.observeDiscardedBranches(discarded::add);
        t.merge(record("s1", 5, A, T0, "a", "5").build());

        assertThat(t.applyReplicated(delta("s1", 3, B, 4, B).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 4, A, 5, B).build())).isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);
        assertThat(discarded).isEmpty();
    }

    @Test
    void theLineageKeepsTheLatestRunsOnlyAndForgetsWhatIsBelowThem() throws Exception {
        SessionTable t = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        t.observeDiscardedBranches(discarded::add);
        t.applyReplicated(delta("s1", 0, 0, 1, A).build());
        for (long v = 2; v <= 20; v++) {
            t.applyReplicated(delta("s1", v - 1, v % 2 == 0 ? A : B, v, v % 2 == 0 ? B : A).build());
        }
        SessionRecord r = t.getForPeer("s1").orElseThrow();

        assertThat(r.getLineageList()).hasSize(2 * Lineage.MAX_RUNS);
        assertThat(r.getLineage(0)).isEqualTo(20 - Lineage.MAX_RUNS + 1);
        // Below the runs kept nothing is known: a concurrent version there is taken for a re-delivery.
        assertThat(t.applyReplicated(delta("s1", 11, A, 12, A).build())).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 12, B, 13, B).build())).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(discarded).hasSize(1);
    }

    @Test
    void deltaForAnUnknownSessionWithANonZeroBaseIsAGap() {
        SessionTable t = table();

        ApplyOutcome o = t.applyReplicated(delta("s1", 3, A, 4, A).addSet(attr("a", "1")).build());

        assertThat(o).isEqualTo(ApplyOutcome.GAP);
        assertThat(o.needsFetch()).isTrue();
        assertThat(t.getForPeer("s1")).isEmpty();
        assertThat(t.liveCount()).isZero();
        assertThat(t.tableHash()).isZero();
    }

    @Test
    void aLocalWriteIsWholeWhenItSetsEveryAttributeTheSessionKeeps() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1", "b", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        write(t, change("s1", 2, "a", "3", "b", "3"), A);
        write(t, change("s1", 3, "c", "4").toBuilder().addRemoved("a").addRemoved("b").build(), A);
        t.invalidateLocal("s1", A, T0, 0, sent::add);

        assertThat(sent).extracting(ReplicatedDelta::getWhole).containsExactly(true, false, true, true, true);
    }

    @Test
    void aWholeDeltaForAnUnknownSessionIsTakenOnAnyBase() {
        SessionTable t = table();

        ApplyOutcome o = t.applyReplicated(delta("s1", 3, A, 4, A).addSet(attr("a", "4")).setWhole(true).build());

        assertThat(o).isEqualTo(ApplyOutcome.WHOLE_OVER_GAP);
        assertThat(o.needsFetch()).isFalse();
        assertThat(versionOf(t, "s1")).isEqualTo(4);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "4"));
        assertThat(t.liveCount()).isEqualTo(1);
    }

    @Test
    void aWholeDeltaReplacesWhatItBeatsAndLosesToWhatBeatsIt() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1", "old", "1"), A);

        // Versions 2 and 3 never arrived: the whole version 4 is the record, without "old".
        assertThat(t.applyReplicated(delta("s1", 3, A, 4, A).addSet(attr("a", "4")).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.WHOLE_OVER_GAP);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "4"));
        // A concurrent branch that wins by the writer id: taken as it is, no fetch.
        ApplyOutcome concurrent = t.applyReplicated(delta("s1", 3, B, 4, B).addSet(attr("b", "4")).setWhole(true)
                .build());
        assertThat(concurrent).isEqualTo(ApplyOutcome.WHOLE_OVER_CONFLICT);
        assertThat(concurrent.needsFetch()).isFalse();
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("b", "4"));
        // Older, or the same version by a lower writer: the held record stays.
        assertThat(t.applyReplicated(delta("s1", 2, A, 3, A).addSet(attr("a", "3")).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("s1", 3, A, 4, A).addSet(attr("a", "x")).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("b", "4"));
        // A whole tombstone ends the session whatever it was built on.
        assertThat(t.applyReplicated(delta("s1", 4, A, 5, A).setInvalidate(true).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.WHOLE_OVER_CONFLICT);
        assertThat(t.get("s1")).isEmpty();
        assertThat(t.tombstoneCount()).isEqualTo(1);
    }

    @Test
    void deltaBuiltOnAVersionAheadOfTheLocalOneIsAGap() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);

        assertThat(t.applyReplicated(delta("s1", 2, A, 3, A).addSet(attr("a", "3")).build()))
                .isEqualTo(ApplyOutcome.GAP);
        assertThat(versionOf(t, "s1")).isEqualTo(1);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));
    }

    @Test
    void sameVersionByALowerWriterLosesToTheLocalOne() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), 5);
        long hash = t.tableHash();

        ApplyOutcome o = t.applyReplicated(delta("s1", 0, 0, 1, 3).addSet(attr("a", "remote")).build());

        assertThat(o).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(o.needsFetch()).isFalse();
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));
        assertThat(t.tableHash()).isEqualTo(hash);
    }

    @Test
    void sameVersionByAHigherWriterWinsButMustBeFetched() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), 5);

        ApplyOutcome o = t.applyReplicated(delta("s1", 0, 0, 1, 7).addSet(attr("a", "remote")).build());

        assertThat(o).isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);
        assertThat(o.needsFetch()).isTrue();
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));
        assertThat(t.versionOf("s1").getWriter()).isEqualTo(5);
    }

    @Test
    void writerIdsAreComparedUnsigned() throws Exception {
        SessionTable low = table();
        write(low, change("s1", 0, "a", "1"), 5);
        SessionTable high = table();
        write(high, change("s1", 0, "a", "1"), HIGH_BIT);

        assertThat(low.applyReplicated(delta("s1", 0, 0, 1, HIGH_BIT).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);
        assertThat(high.applyReplicated(delta("s1", 0, 0, 1, 5).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
    }

    @Test
    void newerDeltaFromAConcurrentBranchWinsButMustBeFetched() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        write(t, change("s1", 1, "a", "2"), A);
        long hash = t.tableHash();

        // Same base version, other base writer: B wrote its own version 2 and then 3 on top of it.
        assertThat(t.applyReplicated(delta("s1", 2, B, 3, B).addSet(attr("a", "b3")).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);
        // Built on an older version than the local one, but newer: also a concurrent branch.
        assertThat(t.applyReplicated(delta("s1", 1, A, 3, B).addSet(attr("a", "b3")).build()))
                .isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);

        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "2"));
        assertThat(t.tableHash()).isEqualTo(hash);
    }

    @Test
    void invalidatingDeltaLeavesATombstone() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);

        assertThat(t.applyReplicated(delta("s1", 1, A, 2, B).setInvalidate(true).build()))
                .isEqualTo(ApplyOutcome.APPLIED);

        assertThat(t.get("s1")).isEmpty();
        assertThat(t.getForPeer("s1")).hasValueSatisfying(r -> {
            assertThat(r.getInvalidated()).isTrue();
            assertThat(r.getVersion()).isEqualTo(2);
        });
        assertThat(t.liveCount()).isZero();
        assertThat(t.liveBytes()).isZero();
        assertThat(t.tombstoneCount()).isEqualTo(1);
        // A late copy of the creating delta cannot bring the session back.
        assertThat(t.applyReplicated(sent.get(0))).isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.get("s1")).isEmpty();
    }

    // ------------------------------------------------------------------ merge

    /** Two members write version 2 on version 1 concurrently, each for a writer that waits for replicas. */
    private record Fork(SessionTable low, SessionTable high, List<DiscardedBranch> lowDiscarded,
                        List<DiscardedBranch> highDiscarded, ReplicatedDelta lowDelta, ReplicatedDelta highDelta) {
    }

    private Fork fork() throws Exception {
        SessionTable low = table();
        SessionTable high = table();
        List<DiscardedBranch> lowDiscarded = new ArrayList<>();
        List<DiscardedBranch> highDiscarded = new ArrayList<>();
        low.observeDiscardedBranches(lowDiscarded::add);
        high.observeDiscardedBranches(highDiscarded::add);
        write(low, change("s1", 0, "a", "1", "b", "1"), A);
        assertThat(high.applyReplicated(sent.get(0))).isEqualTo(ApplyOutcome.APPLIED);
        List<ReplicatedDelta> lowSent = new ArrayList<>();
        List<ReplicatedDelta> highSent = new ArrayList<>();
        low.writeLocal(change("s1", 1, "a", "low"), A, true, lowSent::add);
        high.writeLocal(change("s1", 1, "b", "high"), B, true, highSent::add);
        return new Fork(low, high, lowDiscarded, highDiscarded, lowSent.get(0), highSent.get(0));
    }

    @Test
    void concurrentSyncWritesConvergeOnTheHigherWriterAndBothMembersReportTheDroppedWrite() throws Exception {
        Fork f = fork();

        // The deltas cross: the higher writer refuses the lower one's, the lower one fetches the winner.
        assertThat(f.high().applyReplicated(f.lowDelta())).isEqualTo(ApplyOutcome.CONFLICT_LOCAL_WINS);
        assertThat(f.low().applyReplicated(f.highDelta())).isEqualTo(ApplyOutcome.CONFLICT_REMOTE_WINS);
        assertThat(f.low().merge(f.high().getForPeer("s1").orElseThrow())).isTrue();

        assertThat(f.low().getForPeer("s1")).isEqualTo(f.high().getForPeer("s1"));
        assertThat(f.low().tableHash()).isEqualTo(f.high().tableHash());
        assertThat(attributesOf(f.low(), "s1")).containsExactly(Map.entry("a", "1"), Map.entry("b", "high"));
        assertThat(f.highDiscarded()).containsExactly(new DiscardedBranch("s1", false, 2, A, 2, B, true));
        assertThat(f.lowDiscarded()).containsExactly(new DiscardedBranch("s1", true, 2, A, 2, B, true));
    }

    @Test
    void aWriteThatDidNotWaitForReplicasIsReportedDroppedButNotAcknowledged() throws Exception {
        SessionTable low = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        low.observeDiscardedBranches(discarded::add);
        write(low, change("s1", 0, "a", "1"), A);
        write(low, change("s1", 1, "a", "2"), A);

        assertThat(low.merge(record("s1", 2, B, T0, "a", "b").addLineage(1).addLineage(A).addLineage(2).addLineage(B)
                .build())).isTrue();

        assertThat(discarded).containsExactly(new DiscardedBranch("s1", true, 2, A, 2, B, false));
    }

    @Test
    void aWholeDeltaThatForkedBelowTheHeldVersionIsAConflictNotAGap() throws Exception {
        Fork f = fork();
        f.high().writeLocal(change("s1", 2, "a", "x", "b", "y"), B, false, sent::add);
        ReplicatedDelta whole = sent.get(sent.size() - 1);
        assertThat(whole.getWhole()).isTrue();
        assertThat(whole.getSyncVersion()).isEqualTo(2);

        assertThat(f.low().applyReplicated(whole)).isEqualTo(ApplyOutcome.WHOLE_OVER_CONFLICT);
        assertThat(attributesOf(f.low(), "s1")).containsExactly(Map.entry("a", "x"), Map.entry("b", "y"));
        assertThat(f.lowDiscarded()).containsExactly(new DiscardedBranch("s1", true, 2, A, 3, B, true));
    }

    @Test
    void antiEntropyTakesTheWinnerByTheSameRuleAndReportsWhatItDrops() throws Exception {
        Fork f = fork();
        SessionRecord winner = f.high().getForPeer("s1").orElseThrow();
        SessionRecord loser = f.low().getForPeer("s1").orElseThrow();

        // The winner refuses the loser's record; the loser takes the winner's; nothing is reported twice.
        assertThat(f.high().merge(loser)).isFalse();
        assertThat(f.low().merge(winner)).isTrue();
        assertThat(f.low().merge(winner)).isFalse();

        assertThat(f.low().tableHash()).isEqualTo(f.high().tableHash());
        assertThat(f.highDiscarded()).containsExactly(new DiscardedBranch("s1", false, 2, A, 2, B, true));
        assertThat(f.lowDiscarded()).containsExactly(new DiscardedBranch("s1", true, 2, A, 2, B, true));
    }

    @Test
    void aRecordThatDescendsFromTheHeldVersionDropsNothing() throws Exception {
        SessionTable origin = table();
        SessionTable replica = table();
        List<DiscardedBranch> discarded = new ArrayList<>();
        replica.observeDiscardedBranches(discarded::add);
        write(origin, change("s1", 0, "a", "1"), A);
        replica.applyReplicated(sent.get(0));
        write(origin, change("s1", 1, "a", "2"), A);
        origin.applyReplicated(delta("s1", 2, A, 3, B).addSet(attr("a", "3")).build());
        write(origin, change("s1", 3, "a", "4"), A);

        assertThat(replica.merge(origin.getForPeer("s1").orElseThrow())).isTrue();
        assertThat(replica.merge(record("s1", 3, B, T0).addLineage(1).addLineage(A).addLineage(3).addLineage(B)
                .build())).isFalse();

        assertThat(versionOf(replica, "s1")).isEqualTo(4);
        assertThat(discarded).isEmpty();
    }

    @Test
    void mergeTakesAHigherVersionWhole() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1", "b", "2"), A);

        assertThat(t.merge(record("s1", 4, B, T0, "c", "3").build())).isTrue();

        assertThat(attributesOf(t, "s1")).isEqualTo(Map.of("c", "3"));
        assertThat(t.versionOf("s1").getVersion()).isEqualTo(4);
        assertThat(t.versionOf("s1").getWriter()).isEqualTo(B);
        assertThat(t.liveBytes()).isEqualTo("s1c3".length());
    }

    @Test
    void mergeTakesAnUnknownSession() {
        SessionTable t = table();

        assertThat(t.merge(record("s1", 3, B, T0, "a", "1").build())).isTrue();

        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));
        assertThat(t.liveCount()).isEqualTo(1);
    }

    @Test
    void mergeOfTheSameVersionByAHigherWriterIsTaken() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), 5);

        assertThat(t.merge(record("s1", 1, HIGH_BIT, T0, "a", "x").build())).isTrue();

        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "x"));
    }

    @Test
    void mergeRefusesALowerVersionOrALowerWriter() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), HIGH_BIT);
        write(t, change("s1", 1, "a", "2"), HIGH_BIT);
        long hash = t.tableHash();

        assertThat(t.merge(record("s1", 1, HIGH_BIT, T0 + 50, "a", "x").build())).isFalse();
        assertThat(t.merge(record("s1", 2, 5, T0 + 50, "a", "x").build())).isFalse();

        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "2"));
        assertThat(t.get("s1").orElseThrow().getLastAccessTimeMs()).isEqualTo(T0);
        assertThat(t.tableHash()).isEqualTo(hash);
    }

    @Test
    void mergeOfTheSameVersionOnlyRaisesTheLastAccess() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);

        assertThat(t.merge(record("s1", 1, A, T0 + 500, "a", "other").build())).isFalse();
        assertThat(t.get("s1").orElseThrow().getLastAccessTimeMs()).isEqualTo(T0 + 500);
        assertThat(attributesOf(t, "s1")).containsExactly(Map.entry("a", "1"));

        t.merge(record("s1", 1, A, T0 + 100).build());
        assertThat(t.get("s1").orElseThrow().getLastAccessTimeMs()).isEqualTo(T0 + 500);
    }

    @Test
    void mergeOfANewerVersionKeepsTheLaterLocalAccess() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        t.touch("s1", T0 + 900);

        assertThat(t.merge(record("s1", 2, B, T0 + 100, "a", "2").build())).isTrue();

        assertThat(t.get("s1").orElseThrow().getLastAccessTimeMs()).isEqualTo(T0 + 900);
    }

    @Test
    void mergeRefusesARecordThatHasAlreadyExpired() {
        SessionTable t = table();
        now = T0 + 1800_000 + GRACE_MS + 1;

        assertThat(t.merge(record("s1", 1, B, T0, "a", "1").build())).isFalse();

        assertThat(t.getForPeer("s1")).isEmpty();
        assertThat(t.liveCount()).isZero();

        now = T0 + 1800_000 + GRACE_MS;
        assertThat(t.merge(record("s1", 1, B, T0, "a", "1").build())).isTrue();
    }

    @Test
    void mergeOfATombstoneInvalidatesTheLiveSession() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);

        assertThat(t.merge(record("s1", 2, B, T0).setInvalidated(true).build())).isTrue();

        assertThat(t.get("s1")).isEmpty();
        assertThat(t.liveCount()).isZero();
        assertThat(t.liveBytes()).isZero();
        assertThat(t.tombstoneCount()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ touch

    @Test
    void touchRaisesTheLastAccessOnly() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "a", "1"), A);
        long hash = t.tableHash();

        assertThat(t.touch("s1", T0 + 300)).isTrue();
        assertThat(t.touch("s1", T0 + 100)).isTrue();

        SessionRecord r = t.get("s1").orElseThrow();
        assertThat(r.getLastAccessTimeMs()).isEqualTo(T0 + 300);
        assertThat(r.getVersion()).isEqualTo(1);
        assertThat(t.tableHash()).isEqualTo(hash);
    }

    @Test
    void touchOfAnUnknownOrInvalidatedSessionReportsItUnknown() throws Exception {
        SessionTable t = table();
        assertThat(t.touch("nope", T0)).isFalse();
        assertThat(t.getForPeer("nope")).isEmpty();

        write(t, change("s1", 0, "a", "1"), A);
        t.invalidateLocal("s1", A, T0, 0, sent::add);
        assertThat(t.touch("s1", T0 + 10)).isFalse();
        assertThat(t.getForPeer("s1").orElseThrow().getLastAccessTimeMs()).isEqualTo(T0);
    }

    @Test
    void touchPostponesExpiry() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, 60, "a", "1"), A);
        t.touch("s1", T0 + 30_000);

        assertThat(t.expire(T0 + 60_000 + GRACE_MS + 1)).isZero();
        assertThat(t.expire(T0 + 90_000 + GRACE_MS + 1)).isEqualTo(1);
    }

    // ------------------------------------------------------------------ expiry

    @Test
    void sessionExpiresOnlyAfterTimeoutPlusGrace() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, 60, "a", "1"), A);
        long deadline = T0 + 60_000 + GRACE_MS;

        now = deadline;
        assertThat(t.expire(deadline)).isZero();
        assertThat(t.get("s1")).isPresent();

        now = deadline + 1;
        assertThat(t.get("s1")).as("hidden before the sweep").isEmpty();
        assertThat(t.expire(deadline + 1)).isEqualTo(1);
        assertThat(t.getForPeer("s1")).isEmpty();
        assertThat(t.liveCount()).isZero();
        assertThat(t.liveBytes()).isZero();
        assertThat(t.tableHash()).isZero();
    }

    @Test
    void sessionWithoutPositiveTimeoutNeverExpires() throws Exception {
        SessionTable t = table();
        write(t, change("zero", 0, 0, "a", "1"), A);
        write(t, change("negative", 0, -1, "a", "1"), A);

        now = Long.MAX_VALUE - 1;
        assertThat(t.expire(now)).isZero();
        assertThat(t.get("zero")).isPresent();
        assertThat(t.get("negative")).isPresent();
        assertThat(t.liveCount()).isEqualTo(2);
    }

    @Test
    void expireCountsOnlySessionsThatTimedOut() throws Exception {
        SessionTable t = table();
        write(t, change("short", 0, 10, "a", "1"), A);
        write(t, change("long", 0, 100, "a", "1"), A);

        assertThat(t.expire(T0 + 10_000 + GRACE_MS + 1)).isEqualTo(1);
        assertThat(t.getForPeer("short")).isEmpty();
        assertThat(t.getForPeer("long")).isPresent();
        assertThat(t.liveCount()).isEqualTo(1);
    }

    @Test
    void aTombstoneLivesUntilEveryCopyOfItsSessionHasExpiredAndNeverLessThanTheTtl() throws Exception {
        SessionTable t = table();
        // Ten minutes of timeout: longer than the TTL, so the session's copies decide.
        write(t, change("long", 0, 600, "a", "1"), A);
        t.invalidateLocal("long", A, T0 + 1_000, 0, sent::add);
        // Ten seconds of timeout: the TTL decides.
        write(t, change("short", 0, 10, "a", "1"), A);
        t.invalidateLocal("short", A, T0 + 1_000, 0, sent::add);
        long longLife = 600_000 + 2 * GRACE_MS;

        assertThat(t.expire(T0 + 1_000 + TOMBSTONE_TTL_MS)).isZero();
        assertThat(t.getForPeer("short")).isPresent();
        assertThat(t.expire(T0 + 1_000 + TOMBSTONE_TTL_MS + 1)).isZero();
        assertThat(t.getForPeer("short")).isEmpty();
        assertThat(t.getForPeer("long")).isPresent();

        assertThat(t.expire(T0 + 1_000 + longLife)).isZero();
        assertThat(t.getForPeer("long")).isPresent();
        assertThat(t.expire(T0 + 1_000 + longLife + 1)).isZero();
        assertThat(t.getForPeer("long")).isEmpty();
        assertThat(t.tombstoneCount()).isZero();
        assertThat(t.tableHash()).isZero();
    }

    @Test
    void aTombstoneKeepsTheLongerOfTheHeldTimeoutAndTheOneTheInvalidationGives() throws Exception {
        SessionTable t = table();
        // The filter raised the timeout in a write this agent has not seen applied.
        write(t, change("raised", 0, 10, "a", "1"), A);
        t.invalidateLocal("raised", A, T0, 600, sent::add);
        write(t, change("unknown", 0, 600, "a", "1"), A);
        t.invalidateLocal("unknown", A, T0, 0, sent::add);

        assertThat(sent).filteredOn(ReplicatedDelta::getInvalidate).extracting(ReplicatedDelta::getMaxInactiveSeconds)
                .containsExactly(600, 600);
        t.expire(T0 + 600_000 + 2 * GRACE_MS);
        assertThat(t.getForPeer("raised")).isPresent();
        assertThat(t.getForPeer("unknown")).isPresent();
    }

    @Test
    void aReplicatedTombstoneKeepsTheTimeoutItsDeltaCarries() {
        SessionTable t = table();
        t.applyReplicated(delta("s1", 0, 0, 1, B).build());
        t.applyReplicated(delta("s1", 1, B, 2, B).setInvalidate(true).setWhole(true).setAccessTimeMs(T0 + 1_000)
                .build());

        t.expire(T0 + 1_000 + 1800_000 + 2 * GRACE_MS);
        assertThat(t.getForPeer("s1")).hasValueSatisfying(r -> assertThat(r.getInvalidated()).isTrue());
        t.expire(T0 + 1_000 + 1800_000 + 2 * GRACE_MS + 1);
        assertThat(t.getForPeer("s1")).isEmpty();
    }

    @Test
    void theTombstoneOfASessionThatNeverExpiresIsKeptUntilMaxTombstonesRemovesTheOldestPastTheTtl()
            throws Exception {
        Counters counters = new Counters();
        SessionTable t = new SessionTable(Limits.unlimited(), () -> now, GRACE_MS, TOMBSTONE_TTL_MS, 2, counters);
        for (int i = 0; i < 4; i++) {
            write(t, change("forever" + i, 0, 0, "a", "1"), A);
            t.invalidateLocal("forever" + i, A, T0 + i, 0, sent::add);
        }
        // Within the TTL none goes, however many there are.
        assertThat(t.expire(T0 + TOMBSTONE_TTL_MS)).isZero();
        assertThat(t.tombstoneCount()).isEqualTo(4);

        t.expire(T0 + 365L * 24 * 3600_000);

        assertThat(t.tombstoneCount()).isEqualTo(2);
        assertThat(t.getForPeer("forever0")).isEmpty();
        assertThat(t.getForPeer("forever1")).isEmpty();
        assertThat(t.getForPeer("forever2")).isPresent();
        assertThat(t.getForPeer("forever3")).isPresent();
        assertThat(counters.get(Counter.TOMBSTONES_EVICTED)).isEqualTo(2);
        assertThat(counters.get(Counter.SESSIONS_EXPIRED)).isZero();
    }

    @Test
    void invalidatingAnIdNotHeldLeavesATombstoneThatBeatsEveryVersionOfIt() throws Exception {
        Counters counters = new Counters();
        SessionTable t = new SessionTable(Limits.unlimited(), () -> now, GRACE_MS, TOMBSTONE_TTL_MS, 1000, counters);

        assertThat(t.invalidateLocal("early", A, T0, 1800, sent::add))
                .isEqualTo(new SessionTable.Invalidation(SessionTable.UNKNOWN_SESSION_TOMBSTONE_VERSION, false));
        assertThat(sent).singleElement().satisfies(d -> {
            assertThat(d.getInvalidate()).isTrue();
            assertThat(d.getWhole()).isTrue();
            assertThat(d.getNewVersion()).isEqualTo(SessionTable.UNKNOWN_SESSION_TOMBSTONE_VERSION);
            assertThat(d.getMaxInactiveSeconds()).isEqualTo(1800);
        });

        // The create from the local application, then the same from another member, then any later
        // version of it by delta or record: none brings the session back.
        assertThatThrownBy(() -> write(t, change("early", 0, "a", "1"), A)).isInstanceOf(StaleBaseException.class);
        assertThat(t.applyReplicated(delta("early", 0, 0, 1, B).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.applyReplicated(delta("early", 41, B, 42, B).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.DUPLICATE);
        assertThat(t.merge(record("early", 1_000_000, HIGH_BIT, T0, "a", "1").build())).isFalse();

        assertThat(t.get("early")).isEmpty();
        assertThat(t.liveCount()).isZero();
        assertThat(counters.get(Counter.TOMBSTONES_REFUSED)).isEqualTo(4);

        // Replicated, the tombstone refuses the create at the receiver too, whichever arrives first.
        SessionTable replica = table();
        replica.applyReplicated(sent.get(0));
        assertThat(replica.applyReplicated(delta("early", 0, 0, 1, B).setWhole(true).build()))
                .isEqualTo(ApplyOutcome.DUPLICATE);
        SessionTable createdFirst = table();
        createdFirst.applyReplicated(delta("early", 0, 0, 1, B).setWhole(true).build());
        createdFirst.applyReplicated(sent.get(0));
        assertThat(createdFirst.get("early")).isEmpty();
        assertThat(createdFirst.tableHash()).isEqualTo(replica.tableHash()).isEqualTo(t.tableHash());
    }

    @Test
    void aRecordThatExpiredByItsOwnTimesIsRefusedAndCountedWhateverItsVersion() {
        Counters counters = new Counters();
        SessionTable t = new SessionTable(Limits.unlimited(), () -> now, GRACE_MS, TOMBSTONE_TTL_MS, 1000, counters);
        t.merge(record("s1", 1, B, T0, "a", "1").build());
        now = T0 + 1800_000 + GRACE_MS + 1;

        // A member away since kept a copy of a later version, and its table still holds it.
        assertThat(t.merge(record("s1", 5, B, T0, "a", "2").build())).isFalse();
        assertThat(t.merge(record("s2", 1, B, T0, "a", "2").build())).isFalse();

        assertThat(counters.get(Counter.RECORDS_REFUSED_EXPIRED)).isEqualTo(2);
        assertThat(t.getForPeer("s2")).isEmpty();
        assertThat(versionOf(t, "s1")).isEqualTo(1);
    }

    // ------------------------------------------------------------------ accounting

    @Test
    void countersFollowWritesUpdatesAndInvalidations() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "ab", "123"), A); // 2 + 2 + 3
        write(t, change("s22", 0, "x", "1", "y", "22"), A); // 3 + 2 + 3
        assertThat(t.liveCount()).isEqualTo(2);
        assertThat(t.liveBytes()).isEqualTo(7 + 8);

        write(t, change("s1", 1, "ab", "1"), A); // 2 + 2 + 1
        assertThat(t.liveBytes()).isEqualTo(5 + 8);

        t.invalidateLocal("s22", A, now, 0, sent::add);
        assertThat(t.liveCount()).isEqualTo(1);
        assertThat(t.liveBytes()).isEqualTo(5);
        assertThat(t.tombstoneCount()).isEqualTo(1);
    }

    @Test
    void tableHashDependsOnContentNotOnTheOrderItArrivedIn() throws Exception {
        SessionTable origin = table();
        for (String id : List.of("s1", "s2", "s3")) {
            write(origin, change(id, 0, "a", "1"), A);
        }
        write(origin, change("s2", 1, "a", "2"), A);
        origin.invalidateLocal("s3", A, now, 0, sent::add);

        SessionTable byDeltas = table();
        // Ids in reverse order, each id's deltas in version order.
        for (String id : List.of("s3", "s2", "s1")) {
            for (ReplicatedDelta d : sent) {
                if (d.getId().equals(id)) {
                    assertThat(byDeltas.applyReplicated(d)).isEqualTo(ApplyOutcome.APPLIED);
                }
            }
        }
        SessionTable byRecords = table();
        List<SessionRecord> records = new ArrayList<>();
        origin.forEachRecord(records::add);
        records.sort((x, y) -> y.getId().compareTo(x.getId()));
        records.forEach(r -> assertThat(byRecords.merge(r)).isTrue());

        assertThat(origin.tableHash()).isNotZero();
        assertThat(byDeltas.tableHash()).isEqualTo(origin.tableHash());
        assertThat(byRecords.tableHash()).isEqualTo(origin.tableHash());
        assertThat(byDeltas.liveCount()).isEqualTo(2);
        assertThat(byRecords.tombstoneCount()).isEqualTo(1);

        byRecords.merge(record("s1", 2, B, T0).build());
        assertThat(byRecords.tableHash()).isNotEqualTo(origin.tableHash());
    }

    @Test
    void tableHashReturnsToZeroWhenEverythingIsGone() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, 10, "a", "1"), A);
        write(t, change("s2", 0, 10, "a", "1"), A);
        t.invalidateLocal("s2", A, T0, 0, sent::add);

        t.expire(T0 + TOMBSTONE_TTL_MS + GRACE_MS + 10_001);

        assertThat(t.tableHash()).isZero();
        assertThat(t.liveCount()).isZero();
        assertThat(t.tombstoneCount()).isZero();
    }

    // ------------------------------------------------------------------ digest

    private SessionTable tableOf(int sessions) throws Exception {
        SessionTable t = table();
        for (int i = 0; i < sessions; i++) {
            write(t, change("session-" + i, 0, "a", "v" + i), i % 2 == 0 ? A : B);
        }
        for (int i = 0; i < sessions; i += 7) {
            t.invalidateLocal("session-" + i, A, now, 0, sent::add);
        }
        return t;
    }

    @Test
    void digestBucketsAddUpToTheTableHash() throws Exception {
        SessionTable t = tableOf(200);

        for (int buckets : new int[] {1, 2, 16, 256}) {
            long sum = 0;
            for (long h : t.digest(buckets)) {
                sum += h;
            }
            assertThat(sum).as("%d buckets", buckets).isEqualTo(t.tableHash());
        }
        assertThat(t.digest(1)).containsExactly(t.tableHash());
    }

    @Test
    void bucketEntriesListExactlyWhatEachDigestBucketHashes() throws Exception {
        SessionTable t = tableOf(200);
        int buckets = 16;
        long[] digest = t.digest(buckets);
        Set<String> seen = new HashSet<>();

        for (int b = 0; b < buckets; b++) {
            long sum = 0;
            for (VersionEntry e : t.bucketEntries(buckets, List.of(b))) {
                long idHash = Hashing.hash64(e.getId());
                assertThat(Hashing.bucket(idHash, buckets)).isEqualTo(b);
                assertThat(e).isEqualTo(t.versionOf(e.getId()));
                sum += Hashing.entryHash(idHash, e.getVersion(), e.getWriter());
                assertThat(seen.add(e.getId())).isTrue();
            }
            assertThat(sum).as("bucket %d", b).isEqualTo(digest[b]);
        }
        assertThat(seen).hasSize(200);
        assertThat(t.bucketEntries(buckets, IntStream.range(0, buckets).boxed().toList())).hasSize(200);
    }

    @Test
    void bucketEntriesIgnoreBucketsOutOfRange() throws Exception {
        SessionTable t = tableOf(50);

        assertThat(t.bucketEntries(8, List.of(-1, 8, 100))).isEmpty();
    }

    @Test
    void digestsOfTwoTablesDifferOnlyInTheBucketOfTheDifferingSession() throws Exception {
        SessionTable one = tableOf(100);
        SessionTable two = tableOf(100);
        assertThat(two.digest(64)).isEqualTo(one.digest(64));

        two.merge(record("session-3", 9, B, T0).build());

        long[] d1 = one.digest(64);
        long[] d2 = two.digest(64);
        int expected = Hashing.bucket(Hashing.hash64("session-3"), 64);
        for (int b = 0; b < 64; b++) {
            if (b == expected) {
                assertThat(d2[b]).isNotEqualTo(d1[b]);
            } else {
                assertThat(d2[b]).as("bucket %d", b).isEqualTo(d1[b]);
            }
        }
        assertThat(two.bucketEntries(64, List.of(expected)))
                .contains(VersionEntry.newBuilder().setId("session-3").setVersion(9).setWriter(B).build());
    }

    // ------------------------------------------------------------------ listAfter

    @Test
    void listAfterPagesThroughLiveSessionsInIdOrder() throws Exception {
        SessionTable t = table();
        List<String> ids = new ArrayList<>(List.of("e", "b", "g", "a", "d", "c", "f"));
        for (String id : ids) {
            write(t, change(id, 0, "k", "v"), A);
        }
        t.invalidateLocal("c", A, now, 0, sent::add);

        List<String> pages = new ArrayList<>();
        List<List<String>> shape = new ArrayList<>();
        String after = "";
        while (true) {
            List<SessionSummary> page = t.listAfter(after, 2);
            if (page.isEmpty()) {
                break;
            }
            List<String> pageIds = page.stream().map(SessionSummary::getId).toList();
            shape.add(pageIds);
            pages.addAll(pageIds);
            after = pageIds.get(pageIds.size() - 1);
        }

        assertThat(pages).containsExactly("a", "b", "d", "e", "f", "g");
        assertThat(shape).containsExactly(List.of("a", "b"), List.of("d", "e"), List.of("f", "g"));
        assertThat(t.listAfter("g", 10)).isEmpty();
        assertThat(t.listAfter("b", 0)).isEmpty();
    }

    @Test
    void listAfterSummarisesEachSession() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "ab", "123"), A);
        write(t, change("s1", 1, "c", "4"), B);
        t.touch("s1", T0 + 77);

        assertThat(t.listAfter("", 10)).containsExactly(SessionSummary.newBuilder().setId("s1").setVersion(2)
                .setWriter(B).setLastAccessTimeMs(T0 + 77).setBytes(2 + 2 + 3 + 1 + 1).build());
    }

    @Test
    void sessionsAndBytesAreTalliedByTheirLastWriter() throws Exception {
        SessionTable t = table();
        write(t, change("s1", 0, "k", "vv"), A);
        write(t, change("s2", 0, "k", "v"), A);
        assertThat(t.applyReplicated(delta("s3", 0, 0, 1, B).addSet(attr("k", "v")).build()))
                .isEqualTo(ApplyOutcome.APPLIED);
        assertThat(t.heldByWriter()).containsOnly(
                Map.entry(A, new SessionTable.Held(2, (2 + 1 + 2) + (2 + 1 + 1))),
                Map.entry(B, new SessionTable.Held(1, 2 + 1 + 1)));

        // B takes over s1, A invalidates s2: A holds nothing any more and is left out.
        assertThat(t.applyReplicated(delta("s1", 1, A, 2, B).addSet(attr("k", "v")).build()))
                .isEqualTo(ApplyOutcome.APPLIED);
        t.invalidateLocal("s2", A, now, 0, sent::add);
        assertThat(t.heldByWriter()).containsOnly(Map.entry(B, new SessionTable.Held(2, 2 * (2 + 1 + 1))));
        assertThat(t.heldByWriter().values().stream().mapToLong(SessionTable.Held::bytes).sum())
                .isEqualTo(t.liveBytes());
    }

    @Test
    void localChangesCarryTheTablesClockAsTheirCommitTime() throws Exception {
        SessionTable t = table();
        now = T0 + 1234;
        write(t, change("s1", 0, "k", "v"), A);
        now = T0 + 5678;
        t.invalidateLocal("s1", A, T0, 0, sent::add);
        assertThat(sent).extracting(ReplicatedDelta::getWrittenAtMs).containsExactly(T0 + 1234, T0 + 5678);
    }
}
