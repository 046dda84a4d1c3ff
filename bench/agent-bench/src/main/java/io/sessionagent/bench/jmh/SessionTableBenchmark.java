package io.sessionagent.bench.jmh;

import com.google.protobuf.ByteString;
import io.sessionagent.agent.store.ApplyOutcome;
import io.sessionagent.agent.store.LimitExceededException;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import io.sessionagent.agent.store.StaleBaseException;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ReplicatedDelta;
import io.sessionagent.proto.v1.SessionChange;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The session table's two write paths with a 1 KB attribute over 10,000 sessions in turn: a
 * replicated delta applied by the apply rule, and a local write that hands its delta on. Each op
 * builds its message; {@link #buildDeltaOnly} is that cost alone, to subtract.
 *
 * <pre>java -jar bench/agent-bench/target/benchmarks.jar SessionTableBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
public class SessionTableBenchmark {
    private static final int SESSIONS = 10_000;
    private static final long WRITER = 7;

    private SessionTable replica;
    private SessionTable origin;
    private String[] ids;
    private long[] replicaVersions;
    private long[] originVersions;
    private ByteString value;
    private int next;
    private int nextLocal;

    @Setup
    public void setUp() {
        replica = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 10_000, 60_000);
        origin = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 10_000, 60_000);
        ids = new String[SESSIONS];
        for (int i = 0; i < SESSIONS; i++) {
            ids[i] = "session-" + i + "-abcdefghijklmnopqrstuvwxyz";
        }
        replicaVersions = new long[SESSIONS];
        originVersions = new long[SESSIONS];
        byte[] b = new byte[1024];
        new Random(1).nextBytes(b);
        value = ByteString.copyFrom(b);
    }

    private ReplicatedDelta delta(int i) {
        long base = replicaVersions[i];
        long now = System.currentTimeMillis();
        return ReplicatedDelta.newBuilder().setId(ids[i]).setBaseVersion(base).setBaseWriter(base == 0 ? 0 : WRITER)
                .setNewVersion(base + 1).setWriter(WRITER).setCreationTimeMs(now).setAccessTimeMs(now)
                .setMaxInactiveSeconds(1800).addSet(Attribute.newBuilder().setName("payload").setValue(value))
                .setWrittenAtMs(now).build();
    }

    private int advance() {
        int i = next;
        next = next + 1 == SESSIONS ? 0 : next + 1;
        return i;
    }

    @Benchmark
    public ReplicatedDelta buildDeltaOnly() {
        return delta(advance());
    }

    @Benchmark
    public ApplyOutcome applyReplicated() {
        int i = advance();
        ApplyOutcome o = replica.applyReplicated(delta(i));
        if (o != ApplyOutcome.APPLIED) {
            throw new IllegalStateException("delta not applied: " + o);
        }
        replicaVersions[i]++;
        return o;
    }

    @Benchmark
    public long writeLocal() throws StaleBaseException, LimitExceededException {
        int i = nextLocal;
        nextLocal = nextLocal + 1 == SESSIONS ? 0 : nextLocal + 1;
        long now = System.currentTimeMillis();
        SessionChange c = SessionChange.newBuilder().setId(ids[i]).setBaseVersion(originVersions[i])
                .setCreationTimeMs(now).setAccessTimeMs(now).setMaxInactiveSeconds(1800)
                .addSet(Attribute.newBuilder().setName("payload").setValue(value)).build();
        originVersions[i] = origin.writeLocal(c, WRITER, d -> {
        });
        return originVersions[i];
    }
}
