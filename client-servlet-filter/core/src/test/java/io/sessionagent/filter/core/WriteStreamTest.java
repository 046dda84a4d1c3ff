package io.sessionagent.filter.core;

import io.grpc.Status;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.WriteRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Writes over the one WriteStream: order, room for writes in flight, refusals, a stream that breaks. */
class WriteStreamTest {
    private final AtomicLong clock = new AtomicLong(1_000_000);
    private final AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, new FilterCounters());

    private SessionManager manager(int port, String mode) {
        FilterSettings settings = FilterSettings.parse(name -> {
            switch (name) {
                case FilterSettings.AGENT_ADDRESS:
                    return "127.0.0.1:" + port;
                case FilterSettings.ROUTE:
                    return "node1";
                case FilterSettings.AGENT_TIMEOUT:
                    return "30s";
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
            Thread.sleep(10);
        }
    }

    @Test
    void asyncWritesGoOutInOrderWithoutWaitingEachBasedOnThePredictedVersion() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async")) {
            SessionData s = m.create();
            SessionData other = m.create();
            s.setAttribute("counter", 0);
            m.commit(s);
            // The first write on a new stream is waited for: it probes the connection.
            assertThat(agent.session(s.id()).getVersion()).isEqualTo(1);

            agent.hold();
            for (int i = 1; i <= 50; i++) {
                s.setAttribute("counter", i);
                m.commit(s);
                other.setAttribute("counter", -i);
                m.commit(other);
            }
            // Every commit returned while the agent held all answers back.
            assertThat(s.writesInFlight()).isEqualTo(50);
            assertThat(other.writesInFlight()).isEqualTo(50);
            assertThat(s.version()).as("predicted").isEqualTo(51);
            eventually(() -> agent.heldAnswers() == 100, "all 100 writes reached the agent");
            agent.release();
            eventually(() -> s.writesInFlight() == 0 && other.writesInFlight() == 0, "all answered");

            List<Long> bases = new ArrayList<>();
            List<Object> counters = new ArrayList<>();
            for (WriteRequest r : agent.received()) {
                SessionChange c = r.getChange();
                if (c.getId().equals(s.id())) {
                    bases.add(c.getBaseVersion());
                    counters.add(codec.deserialize(c.getSet(0).getValue().toByteArray()));
                }
            }
            for (int i = 0; i <= 50; i++) {
                assertThat(bases.get(i)).isEqualTo(i);
                assertThat(counters.get(i)).isEqualTo(i);
            }
            assertThat(agent.session(s.id()).getVersion()).isEqualTo(51);
            assertThat(values(agent.session(s.id()))).containsEntry("counter", 50);
            assertThat(values(agent.session(other.id()))).containsEntry("counter", -50);
            assertThat(m.counters().writeConflicts()).isZero();
            assertThat(m.counters().deltasSent()).isEqualTo(101);
            assertThat(s.needsFullSync()).isFalse();
        }
    }

    @Test
    void aFullWindowMakesTheWriterWaitForRoomAndNoLongerThanTheAgentTimeout() throws Exception {
        FilterCounters counters = new FilterCounters();
        try (ScriptedAgent agent = new ScriptedAgent(0);
             AgentClient client = new AgentClient("127.0.0.1", agent.port(), 30_000, counters, clock::get, 4)) {
            assertThat(client.write(change("w", 0), ReplicationMode.ASYNC, 0)).isEqualTo(1);
            agent.hold();
            for (int base = 1; base <= 4; base++) {
                assertThat(client.write(change("w", base), ReplicationMode.ASYNC, 0, new Ignore()).mustWait()).isFalse();
            }
            eventually(() -> agent.received().size() == 5, "four writes in flight at the agent");

            AtomicReference<Object> fifth = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    fifth.set(client.write(change("w", 5), ReplicationMode.ASYNC, 0, new Ignore()));
                } catch (AgentClient.AgentException e) {
                    fifth.set(e);
                }
            });
            writer.start();
            eventually(() -> writer.getState() == Thread.State.TIMED_WAITING, "the fifth writer waits for room");
            assertThat(agent.received()).as("not handed over while four are unanswered").hasSize(5);
            assertThat(fifth.get()).isNull();

            agent.release();
            writer.join(20_000);
            assertThat(fifth.get()).isInstanceOf(AgentClient.Write.class);
            eventually(() -> agent.received().size() == 6, "the fifth write went out once there was room");
            assertThat(counters.agentErrors()).isZero();
        }
        try (ScriptedAgent agent = new ScriptedAgent(0);
             AgentClient client = new AgentClient("127.0.0.1", agent.port(), 300, counters, clock::get, 2)) {
            client.write(change("v", 0), ReplicationMode.ASYNC, 0);
            agent.hold();
            client.write(change("v", 1), ReplicationMode.ASYNC, 0, new Ignore());
            client.write(change("v", 2), ReplicationMode.ASYNC, 0, new Ignore());
            // A hung agent: the third write waits the agent timeout, then the stream is given up.
            assertThatThrownBy(() -> client.write(change("v", 3), ReplicationMode.ASYNC, 0, new Ignore()))
                    .isInstanceOfSatisfying(AgentClient.AgentException.class,
                            e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            assertThat(counters.agentErrors()).isPositive();
            eventually(client::isDown, "backing off after the hung stream was given up");
        }
    }

    @Test
    void aStaleBaseMakesTheSessionWriteItselfWholeOnTheAgentsVersion() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager m = manager(agent.port(), "async")) {
            SessionData s = m.create();
            s.setAttribute("cart", 1);
            m.commit(s);
            agent.writeElsewhere(s.id(), "foreign", codec.serialize("foreign", "x"));

            agent.hold();
            s.setAttribute("cart", 2);
            // Based on 1 while the agent is at 2: refused.
            m.commit(s);
            s.setAttribute("cart", 3);
            // Based on the predicted 2: applied on top of the other writer's version.
            m.commit(s);
            eventually(() -> agent.heldAnswers() == 2, "both writes at the agent");
            agent.release();

            // No further request comes: the refusal alone leads to the whole-session write.
            eventually(() -> agent.session(s.id()).getVersion() == 4, "the whole session written on version 3");
            assertThat(values(agent.session(s.id()))).containsOnlyKeys("cart").containsEntry("cart", 3);
            assertThat(m.counters().writeConflicts()).isEqualTo(1);
            eventually(() -> !s.needsFullSync() && s.writesInFlight() == 0, "in step with the agent");
            assertThat(s.version()).isEqualTo(4);
        }
    }

    @Test
    void aBrokenStreamFailsItsWritesAndTheSessionIsResentWholeOnceTheAgentIsBack() throws Exception {
        ScriptedAgent first = new ScriptedAgent(0);
        int port = first.port();
        try (SessionManager m = manager(port, "async")) {
            SessionData s = m.create();
            s.setAttribute("cart", 1);
            m.commit(s);
            first.hold();
            s.setAttribute("cart", 2);
            m.commit(s);
            eventually(() -> first.heldAnswers() == 1, "a write in flight");
            // Killed with the answer still unsent.
            first.close();

            eventually(() -> s.writesInFlight() == 0, "the write in flight failed with its stream");
            assertThat(s.needsFullSync()).isTrue();
            assertThat(m.counters().agentErrors()).isPositive();
            s.setAttribute("cart", 3);
            m.commit(s);
            assertThat(m.counters().agentCallsSkipped()).as("backing off").isPositive();
            assertThat(m.find(s.id() + ".node1").session().getAttribute("cart")).as("kept locally").isEqualTo(3);

            try (ScriptedAgent second = new ScriptedAgent(port)) {
                // Back, and empty: the session reaches it whole on the next request after the backoff.
                clock.addAndGet(AgentClient.MAX_BACKOFF_MS);
                s.setAttribute("user", "u1");
                m.commit(s);
                SessionRecord r = second.session(s.id());
                assertThat(r.getVersion()).isEqualTo(1);
                assertThat(values(r)).containsOnlyKeys("cart", "user").containsEntry("cart", 3);
                assertThat(s.needsFullSync()).isFalse();

                s.setAttribute("cart", 4);
                m.commit(s);
                eventually(() -> second.session(s.id()).getVersion() == 2, "the next write, a delta on the new stream");
                assertThat(second.received().get(1).getChange().getSetList()).extracting(Attribute::getName)
                        .containsExactly("cart");
            }
        }
    }

    private static SessionChange change(String id, long base) {
        return SessionChange.newBuilder().setId(id).setBaseVersion(base).build();
    }

    private static final class Ignore implements AgentClient.WriteListener {
        @Override
        public void written(long version, boolean awaited) {
        }

        @Override
        public void failed(AgentClient.AgentException e, boolean awaited) {
        }
    }
}
