package io.sessionagent.filter.core;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.agent.AgentHealth;
import io.sessionagent.filter.core.agent.WritePipeline;
import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session manager's writes over a real gRPC stream to a scripted agent: coalescing while the
 * agent holds its answers, the lag bound, refusals, a stream that breaks and an agent that comes back.
 */
class WriteBatchesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, new FilterCounters());

    private SessionManager manager(int port, String mode, String agentTimeout, String maxLag) {
        return manager(port, mode, agentTimeout, maxLag, Map.of());
    }

    private SessionManager manager(int port, String mode, String agentTimeout, String maxLag,
                                   Map<String, String> more) {
        FilterSettings settings = FilterSettings.parse(name -> {
            if (more.containsKey(name)) {
                return more.get(name);
            }
            switch (name) {
                case FilterSettings.AGENT_ADDRESS:
                    return "127.0.0.1:" + port;
                case FilterSettings.ROUTE:
                    return "node1";
                case FilterSettings.AGENT_TIMEOUT:
                    return agentTimeout;
                case FilterSettings.MAX_REPLICATION_LAG:
                    return maxLag;
                case FilterSettings.REPLICATION_MODE:
                    return mode;
                default:
                    return null;
            }
        }, "/shop");
        return new SessionManager(settings, getClass().getClassLoader(), new AgentClientTest.NoEvents(), clock::get);
    }

    private Map<String, Object> values(SessionRecord r) {
        Map<String, Object> m = new HashMap<>();
        for (Attribute a : r.getAttributesList()) {
            m.put(a.getName(), codec.deserialize(a.getValue().toByteArray()));
        }
        return m;
    }

    private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what).isNegative();
            Thread.sleep(5);
        }
    }

    private static boolean waiting(Thread t) {
        return t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING;
    }

    @Test
    void whileTheAgentIsSlowToApplyEachSessionsConcurrentChangesMergeIntoOneWrite() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s")) {
            SessionData s = m.create();
            SessionData other = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            other.setAttribute("counter", 0);
            m.commit(other);
            // A new session's first write is waited for: a failover must find it once the client has the cookie.
            assertThat(agent.session(s.id()).getVersion()).isEqualTo(1);
            assertThat(agent.session(other.id()).getVersion()).isEqualTo(1);

            // Each request waits until the agent holds its write; while the agent applies nothing,
            // the requests that come meanwhile merge into one waiting write per session.
            agent.stallWrites();
            List<Thread> requests = new ArrayList<>();
            for (int i = 1; i <= 25; i++) {
                int n = i;
                for (SessionData session : List.of(s, other)) {
                    Thread t = new Thread(() -> {
                        session.setAttribute("a" + n, n);
                        m.commit(session);
                    });
                    requests.add(t);
                    t.start();
                }
            }
            eventually(() -> requests.stream().allMatch(t -> waiting(t) || !t.isAlive())
                    && m.counters().get(FilterCounter.WRITES_COALESCED) > 0, "the requests wait, their writes merge");
            assertThat(requests).as("no request goes on before the agent holds its write").allMatch(Thread::isAlive);
            assertThat(m.pendingWrites()).isLessThanOrEqualTo(WritePipeline.MAX_IN_FLIGHT * 2 + 2);
            agent.applyStalled();
            for (Thread t : requests) {
                t.join(20_000);
                assertThat(t.isAlive()).isFalse();
            }
            eventually(() -> m.pendingWrites() == 0, "all answered");

            List<Long> bases = new ArrayList<>();
            for (SessionChange c : agent.received()) {
                if (c.getId().equals(s.id())) {
                    bases.add(c.getBaseVersion());
                }
            }
            // Consecutive bases, every change applied: nothing lost, nothing reordered.
            for (int i = 0; i < bases.size(); i++) {
                assertThat(bases.get(i)).isEqualTo(i);
            }
            assertThat(bases.size()).as("fewer writes than changes").isLessThan(26);
            assertThat(agent.session(s.id()).getVersion()).isEqualTo(bases.size());
            for (int i = 1; i <= 25; i++) {
                assertThat(values(agent.session(s.id()))).containsEntry("a" + i, i);
                assertThat(values(agent.session(other.id()))).containsEntry("a" + i, i);
            }
            assertThat(m.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(agent.received().size());
            // A request whose change a concurrent one took along has nothing of its own to hand over.
            assertThat(m.counters().get(FilterCounter.DELTAS_SENT) + m.counters().get(FilterCounter.WRITES_COALESCED))
                    .isBetween(4L, 52L);
            assertThat(agent.batches()).isLessThan(agent.received().size());
            assertThat(m.counters().get(FilterCounter.WRITE_CONFLICTS) + m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)
                    + m.counters().get(FilterCounter.STREAM_FAILURES) + m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS))
                    .isZero();
            assertThat(s.needsFullSync()).isFalse();
        }
    }

    @Test
    void anAsyncRequestReturnsOnceTheAgentHoldsItsWriteNotWhenItsReplicasDo() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s")) {
            SessionData s = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            agent.stallWrites();
            Thread request = new Thread(() -> {
                s.setAttribute("counter", 1);
                m.commit(s);
            });
            request.start();
            eventually(() -> waiting(request) && m.pendingWrites() == 1, "the request waits");
            Thread.sleep(200);
            assertThat(request.isAlive()).as("the agent has not applied the write").isTrue();
            agent.applyStalled();
            request.join(20_000);
            assertThat(request.isAlive()).isFalse();
            assertThat(values(agent.session(s.id()))).containsEntry("counter", 1);

            // Replicas that do not answer do not hold a request up (the lag bound is 60 s here).
            agent.hold();
            s.setAttribute("counter", 2);
            m.commit(s);
            assertThat(values(agent.session(s.id()))).as("held by the agent when the request returns")
                    .containsEntry("counter", 2);
            assertThat(agent.heldAnswers()).isEqualTo(1);
            assertThat(m.pendingWrites()).isEqualTo(1);
            agent.release();
            eventually(() -> m.pendingWrites() == 0, "answered");
            assertThat(m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS)).isZero();
        }
    }

    @Test
    void withoutWaitingForTheAgentAnAsyncRequestReturnsWhileItsWriteIsStillOnItsWay() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s", Map.of(FilterSettings.ASYNC_WAIT_FOR_AGENT, "false"))) {
            SessionData s = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            agent.stallWrites();
            s.setAttribute("counter", 1);
            long start = System.nanoTime();
            m.commit(s);
            assertThat(System.nanoTime() - start).as("returned without the agent").isLessThan(20_000_000_000L);
            assertThat(m.pendingWrites()).isEqualTo(1);
            assertThat(agent.session(s.id()).getVersion()).as("not applied yet").isEqualTo(1);
            agent.applyStalled();
            eventually(() -> m.pendingWrites() == 0, "answered");
            assertThat(values(agent.session(s.id()))).containsEntry("counter", 1);
            assertThat(m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS)).isZero();
        }
    }

    @Test
    void anAsyncRequestWaitsWhileAWriteOlderThanTheLagBoundIsUnansweredAndNeverGivesTheStreamUp() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "100ms")) {
            SessionData s = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            agent.hold();
            s.setAttribute("counter", 1);
            m.commit(s);
            eventually(() -> m.replicationLagMs() > 100, "the unanswered write is older than the bound");
            Thread request = new Thread(() -> {
                s.setAttribute("counter", 2);
                m.commit(s);
            });
            request.start();
            eventually(() -> waiting(request) && m.counters().get(FilterCounter.BACKPRESSURE_WAITS) == 1, "the request waits");
            Thread.sleep(200);
            assertThat(request.isAlive()).as("still waiting for the agent").isTrue();
            agent.release();
            request.join(20_000);
            assertThat(request.isAlive()).isFalse();
            eventually(() -> m.pendingWrites() == 0, "everything answered");
            assertThat(values(agent.session(s.id()))).containsEntry("counter", 2);
            assertThat(m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS) + m.counters().get(FilterCounter.STREAM_FAILURES)
                    + m.counters().get(FilterCounter.WRITES_NOT_REPLICATED) + m.counters().get(FilterCounter.AGENT_ERRORS)).isZero();
            assertThat(m.agentDown()).isFalse();
        }
    }

    @Test
    void aWaitThatReachesTheAgentTimeoutLetsTheRequestGoOnAndTheWriteStaysInFlight() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "sync", "300ms",
                "50ms")) {
            SessionData s = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            agent.hold();
            for (int i = 1; i <= 3; i++) {
                s.setAttribute("counter", i);
                // Each waits agent-timeout plus sync-timeout for an answer that does not come, then goes on.
                m.commit(s);
            }
            assertThat(m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS)).isEqualTo(3);
            assertThat(m.agentDown()).as("slow is not gone").isFalse();
            agent.release();
            eventually(() -> m.pendingWrites() == 0, "the writes that waited are applied after all");
            assertThat(values(agent.session(s.id()))).containsEntry("counter", 3);
            assertThat(m.counters().get(FilterCounter.STREAM_FAILURES) + m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isZero();
            assertThat(s.needsFullSync()).isFalse();
        }
    }

    @Test
    void aStaleBaseMakesTheSessionWriteItselfWholeOnTheAgentsVersion() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s")) {
            SessionData s = m.create();
            s.setAttribute("cart", 1);
            m.commit(s);
            agent.writeElsewhere(s.id(), "foreign", codec.serialize("foreign", "x"));

            // Based on 1 while the agent is at 2: refused; no further request comes, the refusal
            // alone leads to the whole-session write.
            s.setAttribute("cart", 2);
            m.commit(s);
            eventually(() -> agent.session(s.id()).getVersion() == 3, "the whole session written on version 2");
            assertThat(values(agent.session(s.id()))).containsOnlyKeys("cart").containsEntry("cart", 2);
            assertThat(m.counters().get(FilterCounter.WRITE_CONFLICTS)).isEqualTo(1);
            eventually(() -> !s.needsFullSync() && s.writesInFlight() == 0, "in step with the agent");
            assertThat(s.version()).isEqualTo(3);
        }
    }

    @Test
    void aBrokenStreamCountsItsWritesAsNotReplicatedAndTheSessionIsResentWholeOnceTheAgentIsBack()
            throws Exception {
        ScriptedAgent first = new ScriptedAgent(0);
        int port = first.port();
        try (SessionManager m = manager(port, "async", "30s", "60s")) {
            SessionData s = m.create();
            s.setAttribute("cart", 1);
            m.commit(s);
            first.hold();
            s.setAttribute("cart", 2);
            m.commit(s);
            eventually(() -> first.heldAnswers() == 1, "a write in flight");
            // Killed with the answer still unsent.
            first.close();

            eventually(m::agentDown, "the filter serves locally");
            eventually(() -> s.writesInFlight() == 0, "the write in flight failed with its stream");
            assertThat(s.needsFullSync()).isTrue();
            assertThat(m.counters().get(FilterCounter.STREAM_FAILURES)).isEqualTo(1);
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).isEqualTo(1);
            s.setAttribute("cart", 3);
            m.commit(s);
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED)).as("counted, not sent").isEqualTo(2);
            assertThat(m.find(s.id() + ".node1").session().getAttribute("cart")).as("kept locally").isEqualTo(3);

            try (ScriptedAgent second = new ScriptedAgent(port)) {
                // Back, and empty: after the backoff the stream is reopened, and the session reaches
                // the agent whole with its next write.
                eventually(() -> {
                    // Time passes: a probe that finds the channel still reconnecting backs off again.
                    clock.addAndGet(AgentHealth.MAX_BACKOFF_MS);
                    return !m.agentDown();
                }, "the agent answers again");
                s.setAttribute("user", "u1");
                m.commit(s);
                eventually(() -> second.session(s.id()) != null, "written whole");
                SessionRecord r = second.session(s.id());
                assertThat(r.getVersion()).isEqualTo(1);
                assertThat(values(r)).containsOnlyKeys("cart", "user").containsEntry("cart", 3);
                assertThat(s.needsFullSync()).isFalse();

                s.setAttribute("cart", 4);
                m.commit(s);
                eventually(() -> second.session(s.id()).getVersion() == 2, "the next write, a delta on the new stream");
                assertThat(second.received().get(1).getSetList()).extracting(Attribute::getName)
                        .containsExactly("cart");
            }
        }
    }

    private static List<SessionChange> changesOf(ScriptedAgent agent, String id) {
        List<SessionChange> out = new ArrayList<>();
        for (SessionChange c : agent.received()) {
            if (c.getId().equals(id)) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void aLogoutCannotBeOvertakenByTheSessionsWriteStillOnItsWayToTheAgent() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "200ms",
                "60s")) {
            agent.stallWrites();
            SessionData s = m.create();
            s.setAttribute("user", "alice");
            // The first write reaches the agent's stream but is not applied: the request waits its
            // agent-timeout and goes on, the write stays in flight.
            m.commit(s);
            m.invalidate(s);
            agent.applyStalled();
            eventually(() -> m.pendingWrites() == 0, "both answered");

            List<SessionChange> ofS = changesOf(agent, s.id());
            assertThat(ofS).extracting(SessionChange::getInvalidate).containsExactly(false, true);
            assertThat(ofS.get(1).getMaxInactiveSeconds()).isEqualTo(s.maxInactiveSeconds());
            assertThat(agent.live(s.id())).as("the create applied first, the logout after it").isNull();
            assertThat(agent.unaryInvalidations()).isZero();
            assertThat(m.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(2);
            assertThat(m.counters().get(FilterCounter.BACKPRESSURE_TIMEOUTS)).as("the write's wait and the logout's").isEqualTo(2);
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED) + m.counters().get(FilterCounter.WRITE_CONFLICTS)).isZero();
        }
    }

    @Test
    void aWriteThatHasNotLeftWhenTheSessionIsInvalidatedIsReplacedByTheInvalidation() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "200ms",
                "60s")) {
            SessionData s = m.create();
            s.setAttribute("user", "alice");
            m.commit(s);
            agent.stallWrites();
            s.setAttribute("cart", 1);
            m.commit(s);
            // In flight: this one waits in the filter for the answer to the batch before it.
            s.setAttribute("cart", 2);
            m.commit(s);
            m.invalidate(s);
            agent.applyStalled();
            eventually(() -> m.pendingWrites() == 0, "all answered");

            List<SessionChange> ofS = changesOf(agent, s.id());
            assertThat(ofS).extracting(SessionChange::getInvalidate).containsExactly(false, false, true);
            assertThat(ofS.get(1).getBaseVersion()).isEqualTo(1);
            assertThat(agent.live(s.id())).isNull();
            // Four changes handed over: three writes (one replaced) and the logout.
            assertThat(m.counters().get(FilterCounter.DELTAS_SENT)).isEqualTo(3);
            assertThat(m.counters().get(FilterCounter.WRITES_COALESCED)).isEqualTo(1);
            assertThat(m.counters().get(FilterCounter.WRITES_NOT_REPLICATED) + m.counters().get(FilterCounter.WRITE_CONFLICTS)).isZero();
        }
    }

    @Test
    void theIdGivenUpByChangeSessionIdIsInvalidatedOnTheStreamBehindTheNewIdsFirstWrite() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s")) {
            SessionData s = m.create();
            s.setAttribute("user", "alice");
            m.commit(s);
            String oldId = s.id();
            m.changeId(s);
            s.setAttribute("role", "admin");
            m.commit(s);

            // The request returned once the old id's invalidation was answered.
            assertThat(agent.session(oldId).getInvalidated()).isTrue();
            List<SessionChange> received = agent.received();
            int newIdsWrite = -1;
            int oldIdsInvalidation = -1;
            for (int i = 0; i < received.size(); i++) {
                SessionChange c = received.get(i);
                if (c.getId().equals(s.id()) && newIdsWrite < 0) {
                    newIdsWrite = i;
                }
                if (c.getId().equals(oldId) && c.getInvalidate() && oldIdsInvalidation < 0) {
                    oldIdsInvalidation = i;
                }
            }
            assertThat(newIdsWrite).isNotNegative();
            assertThat(oldIdsInvalidation).isGreaterThan(newIdsWrite);
            assertThat(agent.live(s.id())).isNotNull();
            assertThat(agent.unaryInvalidations()).isZero();
        }
    }

    @Test
    void aSessionInvalidatedRightAfterChangeSessionIdTakesItsOldIdAlong() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async", "30s",
                "60s")) {
            SessionData s = m.create();
            s.setAttribute("user", "alice");
            m.commit(s);
            String oldId = s.id();
            m.changeId(s);
            // No request wrote the new id before the logout.
            m.invalidate(s);
            eventually(() -> m.pendingWrites() == 0, "answered");

            assertThat(agent.live(oldId)).isNull();
            assertThat(agent.session(oldId).getInvalidated()).isTrue();
            assertThat(agent.live(s.id())).isNull();
        }
    }
}
