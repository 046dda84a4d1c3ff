package io.sessionagent.agent.netns;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.testing.SessionClient;
import com.google.protobuf.ByteString;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.ListSessionsResponse;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A line-oriented client of one agent, run inside the agent's network namespace because the test
 * JVM (in the root namespace) cannot reach 127.0.0.1 there. One process serves the whole test,
 * so each probe costs a gRPC call rather than a JVM start.
 *
 * <p>Each line on stdin is {@code TAG COMMAND ARGS...}; commands run concurrently, and each is
 * answered by exactly one line on stdout, {@code TAG ok ...} with space-separated
 * {@code key=value} pairs, or {@code TAG error <message>}, in the order they finish:
 * <pre>
 *   view                          count hash self node state members c.&lt;counter&gt;...
 *   get ID                        found version writer value
 *   put ID BASE VALUE             version            (attribute "v" = VALUE)
 *   write PREFIX COUNT THREADS    writes failed last_ack_ms elapsed_ms   (1 KiB each, async)
 *   update ID BASE DURABILITY VALUE PAD
 *                                 status (a gRPC code) outcome version acks ack_ms
 *                                 (attribute "v" = VALUE, "pad" = PAD bytes; DURABILITY is
 *                                 ASYNC, SYNC_ONE or SYNC_ALL; a refused write is an ok answer
 *                                 with its status, so that the caller sees ABORTED apart from UNAVAILABLE)
 *   dump                          sessions=id:version:value,...   (every session held, "v" only)
 *   ready PORT                    status         (HTTP status of 127.0.0.1:PORT/ready, 0 if unreachable)
 * </pre>
 */
public final class NetnsClient {
    static final int VALUE_BYTES = 1024;
    static final String ATTRIBUTE = "v";

    private final SessionClient client;

    private NetnsClient(SessionClient client) {
        this.client = client;
    }

    public static void main(String[] args) throws Exception {
        String target = args.length > 0 ? args[0] : "127.0.0.1:7400";
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        // Sync writes wait up to the sync timeout each, so callers keep many in flight at once.
        ExecutorService pool = Executors.newFixedThreadPool(64);
        try (SessionClient client = new SessionClient(target)) {
            NetnsClient self = new NetnsClient(client);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] words = line.trim().split("\\s+");
                if (words.length >= 2) {
                    pool.execute(() -> out.println(words[0] + " " + self.answer(Arrays.copyOfRange(words, 1, words.length))));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private String answer(String[] cmd) {
        try {
            return "ok " + switch (cmd[0]) {
                case "view" -> view();
                case "get" -> get(cmd[1]);
                case "put" -> "version=" + client.put(cmd[1], Long.parseLong(cmd[2]), ATTRIBUTE,
                        cmd[3].getBytes(StandardCharsets.UTF_8));
                case "write" -> write(cmd[1], Integer.parseInt(cmd[2]), Integer.parseInt(cmd[3]));
                case "update" -> update(cmd[1], Long.parseLong(cmd[2]), Durability.valueOf("DURABILITY_" + cmd[3]),
                        cmd[4], Integer.parseInt(cmd[5]));
                case "dump" -> dump();
                case "ready" -> ready(Integer.parseInt(cmd[1]));
                default -> throw new IllegalArgumentException("unknown command " + cmd[0]);
            };
        } catch (Exception e) {
            return "error " + String.valueOf(e).replace('\n', ' ');
        }
    }

    private String update(String id, long base, Durability durability, String value, int padBytes) {
        long now = System.currentTimeMillis();
        byte[] pad = new byte[padBytes];
        ThreadLocalRandom.current().nextBytes(pad);
        try {
            WriteResponse r = client.stub().writeDelta(WriteRequest.newBuilder()
                    .setDurability(durability)
                    .setChange(SessionChange.newBuilder().setId(id).setBaseVersion(base)
                            .setCreationTimeMs(now).setAccessTimeMs(now).setMaxInactiveSeconds(3600)
                            .addSet(Attribute.newBuilder().setName(ATTRIBUTE).setValue(ByteString.copyFromUtf8(value)))
                            .addSet(Attribute.newBuilder().setName("pad").setValue(ByteString.copyFrom(pad))))
                    .build());
            return "status=OK outcome=" + r.getOutcome().name().substring("WRITE_OUTCOME_".length())
                    + " version=" + Long.toUnsignedString(r.getVersion()) + " acks=" + r.getAcks()
                    + " ack_ms=" + System.currentTimeMillis();
        } catch (StatusRuntimeException e) {
            return "status=" + e.getStatus().getCode().name() + " ack_ms=" + System.currentTimeMillis();
        }
    }

    /** Every session held, paged through ListSessions, each read with GetSession for its value. */
    private String dump() {
        StringBuilder sb = new StringBuilder("sessions=");
        String token = "";
        boolean first = true;
        do {
            ListSessionsResponse page = client.stub().listSessions(
                    ListSessionsRequest.newBuilder().setPageSize(1000).setPageToken(token).build());
            for (SessionSummary summary : page.getSessionsList()) {
                GetSessionResponse r = getCaughtUp(summary.getId());
                if (!r.getFound()) {
                    continue; // expired or invalidated between the list and the read
                }
                SessionRecord s = r.getSession();
                String value = s.getAttributesList().stream().filter(a -> a.getName().equals(ATTRIBUTE))
                        .map(a -> a.getValue().toStringUtf8()).findFirst().orElse("");
                sb.append(first ? "" : ",").append(s.getId()).append(':')
                        .append(Long.toUnsignedString(s.getVersion())).append(':').append(value);
                first = false;
            }
            token = page.getNextPageToken();
        } while (!token.isEmpty());
        return sb.toString();
    }

    /**
     * A read as the filter makes it: an agent still applying what it received (right after a
     * member died or rejoined) answers UNAVAILABLE "retry shortly", and is asked again, for at
     * most 30 s.
     */
    private GetSessionResponse getCaughtUp(String id) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            try {
                return client.get(id);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** The agent's readiness over HTTP; a ready agent also gets the gRPC channel's reconnect backoff reset. */
    private String ready(int port) {
        int status;
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/ready").toURL()
                    .openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(5000);
            status = c.getResponseCode();
            c.disconnect();
        } catch (IOException e) {
            status = 0;
        }
        if (status == 200) {
            // After the agent was down, the channel may be sleeping in its backoff; callers write at once.
            client.channel().resetConnectBackoff();
        }
        return "status=" + status;
    }

    private String view() {
        // Waiting for readiness lets the first probe ride out the agent's start-up.
        ClusterView v = client.stub().withWaitForReady().getClusterView(ClusterViewRequest.getDefaultInstance());
        List<String> members = new ArrayList<>();
        for (Member m : v.getMembersList()) {
            members.add(m.getNodeName());
        }
        StringBuilder sb = new StringBuilder()
                .append("count=").append(Long.toUnsignedString(v.getSessionCount()))
                .append(" hash=").append(Long.toUnsignedString(v.getTableHash()))
                .append(" self=").append(Long.toUnsignedString(v.getSelf().getMemberId()))
                .append(" node=").append(v.getSelf().getNodeName())
                .append(" state=").append(v.getSelf().getState().name())
                .append(" members=").append(String.join(",", members.stream().sorted().toList()));
        for (Map.Entry<String, Long> c : new TreeMap<>(v.getCountersMap()).entrySet()) {
            sb.append(" c.").append(c.getKey()).append('=').append(Long.toUnsignedString(c.getValue()));
        }
        return sb.toString();
    }

    private String get(String id) {
        GetSessionResponse r = getCaughtUp(id);
        if (!r.getFound()) {
            return "found=false";
        }
        SessionRecord s = r.getSession();
        String value = s.getAttributesList().stream().filter(a -> a.getName().equals(ATTRIBUTE))
                .map(a -> a.getValue().toStringUtf8()).findFirst().orElse("");
        return "found=true version=" + Long.toUnsignedString(s.getVersion())
                + " writer=" + Long.toUnsignedString(s.getWriter()) + " value=" + value;
    }

    /** {@code count} new sessions PREFIX-00000..., spread over {@code threads} callers. */
    private String write(String prefix, int count, int threads) throws Exception {
        AtomicLong lastAck = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    byte[] value = new byte[VALUE_BYTES];
                    for (int i = first; i < count; i += threads) {
                        ThreadLocalRandom.current().nextBytes(value);
                        try {
                            client.write(String.format("%s-%06d", prefix, i), 0, ATTRIBUTE, value,
                                    Durability.DURABILITY_ASYNC);
                            lastAck.accumulateAndGet(System.currentTimeMillis(), Math::max);
                        } catch (StatusRuntimeException e) {
                            failed.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : parts) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        return "writes=" + (count - failed.get()) + " failed=" + failed.get() + " last_ack_ms=" + lastAck.get()
                + " elapsed_ms=" + (System.nanoTime() - start) / 1_000_000;
    }
}
