package io.sessionagent.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class LineageTest {
    private static final long A = 1;
    private static final long B = 2;
    private static final long C = 3;

    @Test
    void aSingleWriterFromVersionOneNeedsNoRuns() {
        assertThat(Lineage.extend(null, 5, A, 6, A)).isNull();
        assertThat(Lineage.fromWire(List.of(1L, A), 9, A)).isNull();
        assertThat(Lineage.toWire(null, A)).containsExactly(1L, A);
    }

    @Test
    void aWriterChangeAddsARunAndTheOldestRunsAreDropped() {
        long[] runs = Lineage.extend(null, 3, A, 4, B);
        assertThat(runs).containsExactly(1, A, 4, B);
        assertThat(Lineage.verdict(runs, 4, B, 3, A)).isEqualTo(Lineage.Verdict.HELD);
        assertThat(Lineage.verdict(runs, 4, B, 3, B)).isEqualTo(Lineage.Verdict.CONCURRENT);
        assertThat(Lineage.verdict(runs, 4, B, 5, B)).isEqualTo(Lineage.Verdict.UNKNOWN);

        long version = 4;
        long writer = B;
        for (int i = 0; i < 20; i++) {
            long next = i % 2 == 0 ? C : B;
            runs = Lineage.extend(runs, version, writer, version + 1, next);
            version++;
            writer = next;
        }
        assertThat(runs).hasSize(2 * Lineage.MAX_RUNS);
        assertThat(Lineage.floor(runs)).isEqualTo(version - Lineage.MAX_RUNS + 1);
        assertThat(Lineage.verdict(runs, version, writer, Lineage.floor(runs) - 1, A))
                .isEqualTo(Lineage.Verdict.UNKNOWN);
    }

    @Test
    void aVersionThatDoesNotFollowTheHeldOneStartsTheHistoryAfresh() {
        assertThat(Lineage.extend(null, 3, A, 7, A)).containsExactly(7, A);
    }

    @Test
    void runsFromTheWireThatDoNotDescribeTheRecordAreNotTrusted() {
        assertThat(Lineage.fromWire(List.of(), 5, A)).containsExactly(5, A);
        assertThat(Lineage.fromWire(List.of(1L, A, 3L), 5, A)).containsExactly(5, A);
        assertThat(Lineage.fromWire(List.of(1L, B), 5, A)).containsExactly(5, A);
        assertThat(Lineage.fromWire(List.of(1L, A, 6L, B), 5, B)).containsExactly(5, B);
        assertThat(Lineage.fromWire(List.of(3L, A, 2L, B), 5, B)).containsExactly(5, B);
        assertThat(Lineage.fromWire(List.of(0L, B), 5, B)).containsExactly(5, B);
        assertThat(Lineage.fromWire(List.of(1L, A, 3L, B), 5, B)).containsExactly(1, A, 3, B);
    }

    @Test
    void theForkIsTheHighestVersionBothHistoriesNameTheSameWriterFor() {
        long[] ab = {1, A, 7, B};
        long[] ac = {1, A, 5, C};
        assertThat(Lineage.fork(ab, 9, B, ac, 6, C)).isEqualTo(4);
        assertThat(Lineage.fork(null, 9, A, ac, 6, C)).isEqualTo(4);
        assertThat(Lineage.fork(null, 9, A, null, 6, A)).isEqualTo(6);
        assertThat(Lineage.fork(ab, 9, B, ab, 9, B)).isEqualTo(9);
    }

    @Test
    void whereTheHistoriesAreTooShortTheForkIsTheHighestItMayBe() {
        // Nothing known below 8 on one side: they may share up to 7, not more.
        assertThat(Lineage.fork(new long[] {8, B}, 9, B, null, 9, A)).isEqualTo(7);
        // One side is older than anything the other knows: they may share all of it.
        assertThat(Lineage.fork(new long[] {8, B}, 9, B, null, 5, A)).isEqualTo(5);
    }
}
