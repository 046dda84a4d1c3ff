package io.sessionagent.bench.jmh;

import io.sessionagent.agent.auth.ClusterKey;
import io.sessionagent.agent.auth.ClusterKeys;
import io.sessionagent.agent.auth.FrameSealer;
import io.sessionagent.agent.auth.KeyRing;
import io.sessionagent.agent.transport.Frame;
import io.sessionagent.agent.transport.FrameCodec;
import io.sessionagent.agent.transport.FrameException;
import io.sessionagent.agent.transport.FrameType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The frame header every datagram carries, encoded and decoded (with its CRC32C over the body),
 * for a small control frame body and a full 1400-byte datagram, in clear and sealed with a cluster
 * key (AES-GCM; a sealed datagram's body is 36 bytes shorter, so the full one carries 1316).
 *
 * <pre>java -jar bench/agent-bench/target/benchmarks.jar FrameCodecBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class FrameCodecBenchmark {
    @Param({"64", "1352"})
    int bodyBytes;

    @Param({"false", "true"})
    boolean sealed;

    private FrameCodec codec;
    private byte[] body;
    private byte[] datagram;
    private long sequence;

    @Setup
    public void setUp() {
        byte[] key = new byte[32];
        new Random(2).nextBytes(key);
        codec = new FrameCodec(0x1234_5678_9abcL, 1400, sealed
                ? new FrameSealer(ClusterKeys.of(new KeyRing(List.of(new ClusterKey(1, key)))), 3) : null);
        body = new byte[Math.min(bodyBytes, codec.maxBodyBytes())];
        new Random(1).nextBytes(body);
        datagram = codec.encode(FrameType.DATA, 42, 7, 1, 0, 1, body, 0, body.length);
    }

    @Benchmark
    public byte[] encode() {
        return codec.encode(FrameType.DATA, 42, 7, ++sequence, 0, 1, body, 0, body.length);
    }

    @Benchmark
    public Frame decode() throws FrameException {
        return codec.decode(datagram);
    }
}
