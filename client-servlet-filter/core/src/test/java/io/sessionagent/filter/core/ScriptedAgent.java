package io.sessionagent.filter.core;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ChangeResult;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.InvalidateRequest;
import io.sessionagent.proto.v1.InvalidateResponse;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.TouchRequest;
import io.sessionagent.proto.v1.TouchResponse;
import io.sessionagent.proto.v1.WriteBatch;
import io.sessionagent.proto.v1.WriteBatchResult;
import io.sessionagent.proto.v1.WriteOutcome;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC SessionService on 127.0.0.1 that keeps sessions by the agent's version rule (a write
 * applies only on the version it was based on and makes base + 1) and whose answers a test can
 * hold back and release (a batch's final answer at a time), so that writes in flight and a stale
 * base can be set up exactly. Only {@code WriteBatches} writes: a client that used the unary call would fail
 * against it. An invalidating change leaves a tombstone as the agent does; the unary
 * {@code Invalidate} only forgets the session, as agents did before tombstones for ids not held, and
 * is counted. Writes can also be stalled: received, neither applied nor answered, as while they
 * are on their way to an agent.
 */
public final class ScriptedAgent extends SessionServiceGrpc.SessionServiceImplBase implements AutoCloseable {
    private final Server server;
    // Guarded by this.
    private final Map<String, SessionRecord> sessions = new HashMap<>();
    private final List<SessionChange> received = new ArrayList<>();
    private int batches;
    private final List<Runnable> held = new ArrayList<>();
    private boolean holding;
    private boolean stallingWrites;
    private final List<Runnable> stalled = new ArrayList<>();
    private int unaryInvalidations;
    private boolean stallLookups;
    private final Map<String, Integer> lookups = new HashMap<>();

    public ScriptedAgent(int port) throws IOException {
        this(port, null);
    }

    /** @param token when set, every call without {@code authorization: Bearer <token>} is refused as the agent does */
    public ScriptedAgent(int port, String token) throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(this);
        if (token != null) {
            Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
            b.intercept(new ServerInterceptor() {
                @Override
                public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                                  ServerCallHandler<Q, R> next) {
                    if (!("Bearer " + token).equals(headers.get(authorization))) {
                        call.close(Status.UNAUTHENTICATED.withDescription("wrong API token"), new Metadata());
                        return new ServerCall.Listener<Q>() {
                        };
                    }
                    return next.startCall(call, headers);
                }
            });
        }
        server = b.build().start();
    }

    public int port() {
        return server.getPort();
    }

    /**
     * Answers are kept back from now on, until {@link #release}, as by an agent whose replicas are
     * slow: a batch that asks for a first answer once applied still gets that at once.
     */
    synchronized void hold() {
        holding = true;
    }

    /** Sends the answers kept back, in order, and answers at once again. */
    synchronized void release() {
        holding = false;
        for (Runnable r : held) {
            r.run();
        }
        held.clear();
    }

    synchronized int heldAnswers() {
        return held.size();
    }

    /** Batches received from now on are neither applied nor answered, until {@link #applyStalled}. */
    synchronized void stallWrites() {
        stallingWrites = true;
    }

    /** Applies the stalled batches, in order, and applies on receipt again. */
    synchronized void applyStalled() {
        stallingWrites = false;
        for (Runnable r : stalled) {
            r.run();
        }
        stalled.clear();
    }

    synchronized int unaryInvalidations() {
        return unaryInvalidations;
    }

    /** The session if it is live (held and not invalidated), else null. */
    synchronized SessionRecord live(String id) {
        SessionRecord r = sessions.get(id);
        return r == null || r.getInvalidated() ? null : r;
    }

    /** Every change received, in order, whatever the batch. */
    synchronized List<SessionChange> received() {
        return new ArrayList<>(received);
    }

    /** Batches received. */
    synchronized int batches() {
        return batches;
    }

    public synchronized SessionRecord session(String id) {
        return sessions.get(id);
    }

    /** A record as another node's writes left it. */
    public synchronized void put(SessionRecord r) {
        sessions.put(r.getId(), r);
    }

    /** Another node writes the session: its version moves on under the filter. */
    synchronized void writeElsewhere(String id, String name, byte[] value) {
        SessionRecord cur = sessions.get(id);
        sessions.put(id, cur.toBuilder().setVersion(cur.getVersion() + 1)
                .addAttributes(Attribute.newBuilder().setName(name).setValue(com.google.protobuf.ByteString.copyFrom(value)))
                .build());
    }

    @Override
    public StreamObserver<WriteBatch> writeBatches(StreamObserver<WriteBatchResult> out) {
        return new StreamObserver<WriteBatch>() {
            @Override
            public void onNext(WriteBatch batch) {
                synchronized (ScriptedAgent.this) {
                    if (stallingWrites) {
                        stalled.add(() -> onNext(batch));
                        return;
                    }
                    batches++;
                    WriteBatchResult.Builder r = WriteBatchResult.newBuilder().setBatchId(batch.getBatchId())
                            .setOutcome(WriteOutcome.WRITE_OUTCOME_REPLICATED).setAcks(1);
                    for (SessionChange c : batch.getChangesList()) {
                        received.add(c);
                        r.addResults(apply(c));
                    }
                    WriteBatchResult result = r.build();
                    if (batch.getAnswerWhenApplied()) {
                        // As the agent does: once applied, before the replicas, whose answer may be held.
                        out.onNext(result.toBuilder().setOutcome(WriteOutcome.WRITE_OUTCOME_APPLIED)
                                .setInterim(true).build());
                    }
                    Runnable answer = () -> out.onNext(result);
                    if (holding) {
                        held.add(answer);
                    } else {
                        answer.run();
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
                synchronized (ScriptedAgent.this) {
                    out.onCompleted();
                }
            }
        };
    }

    // Under this.
    private ChangeResult apply(SessionChange c) {
        SessionRecord cur = sessions.get(c.getId());
        long version = cur == null ? 0 : cur.getVersion();
        if (c.getInvalidate()) {
            long tombstone = cur == null ? Long.MAX_VALUE : cur.getInvalidated() ? version : version + 1;
            sessions.put(c.getId(), SessionRecord.newBuilder().setId(c.getId()).setVersion(tombstone)
                    .setInvalidated(true).build());
            return ChangeResult.newBuilder().setVersion(tombstone).build();
        }
        if (cur != null && cur.getInvalidated()) {
            return ChangeResult.newBuilder().setErrorCode(Status.Code.ABORTED.value())
                    .setErrorMessage("invalidated at version " + version).build();
        }
        if (c.getBaseVersion() != version) {
            return ChangeResult.newBuilder().setErrorCode(Status.Code.ABORTED.value())
                    .setErrorMessage("at version " + version + ", based on " + c.getBaseVersion()).build();
        }
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        if (cur != null) {
            for (Attribute a : cur.getAttributesList()) {
                attributes.put(a.getName(), a);
            }
        }
        for (String name : c.getRemovedList()) {
            attributes.remove(name);
        }
        for (Attribute a : c.getSetList()) {
            attributes.put(a.getName(), a);
        }
        sessions.put(c.getId(), SessionRecord.newBuilder().setId(c.getId()).setVersion(version + 1)
                .setCreationTimeMs(c.getCreationTimeMs()).setLastAccessTimeMs(c.getAccessTimeMs())
                .setMaxInactiveSeconds(c.getMaxInactiveSeconds()).addAllAttributes(attributes.values()).build());
        return ChangeResult.newBuilder().setVersion(version + 1).build();
    }

    /** Lookups are received and never answered from now on, as by an agent that stopped. */
    synchronized void stallLookups() {
        stallLookups = true;
    }

    synchronized void answerLookups() {
        stallLookups = false;
    }

    /**
     * GetSession calls received for {@code id}, answered or not. By id: a filter's connection
     * warm-up is a lookup too, sent from its own thread, and may arrive at any time.
     */
    synchronized int lookups(String id) {
        return lookups.getOrDefault(id, 0);
    }

    @Override
    public synchronized void getSession(GetSessionRequest request, StreamObserver<GetSessionResponse> out) {
        lookups.merge(request.getId(), 1, Integer::sum);
        if (stallLookups) {
            return;
        }
        SessionRecord r = live(request.getId());
        out.onNext(r == null ? GetSessionResponse.getDefaultInstance()
                : GetSessionResponse.newBuilder().setFound(true).setSession(r).build());
        out.onCompleted();
    }

    @Override
    public void touch(TouchRequest request, StreamObserver<TouchResponse> out) {
        out.onNext(TouchResponse.getDefaultInstance());
        out.onCompleted();
    }

    @Override
    public synchronized void invalidate(InvalidateRequest request, StreamObserver<InvalidateResponse> out) {
        unaryInvalidations++;
        sessions.remove(request.getId());
        out.onNext(InvalidateResponse.getDefaultInstance());
        out.onCompleted();
    }

    /** Dies the way a killed agent does: the connection drops, answers kept back are lost. */
    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }
}
