package io.sessionagent.agent.testing;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.transport.MulticastTransport;
import io.sessionagent.agent.transport.Transport;

import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;

/** Several agents in this JVM on one random loopback multicast group. */
public final class TestCluster implements AutoCloseable {
    private final Map<String, String> settings;
    private final List<Agent> agents = new ArrayList<>();
    private final Map<Agent, SwitchableTransport> transports = new HashMap<>();
    private final Map<Agent, SessionClient> clients = new HashMap<>();
    private final Function<AgentConfig, Transport> baseTransport;

    public TestCluster(String name) {
        this(Networks.loopbackCluster(name), TestCluster::multicast);
    }

    /** Agents on real loopback multicast with the given settings (e.g. a group another cluster uses too). */
    public TestCluster(Map<String, String> settings) {
        this(settings, TestCluster::multicast);
    }

    public TestCluster(Map<String, String> settings, Function<AgentConfig, Transport> baseTransport) {
        this.settings = new HashMap<>(settings);
        this.baseTransport = baseTransport;
    }

    /** The real loopback multicast transport the default constructors use, for factories that wrap it. */
    public static Transport multicast(AgentConfig c) {
        try {
            return new MulticastTransport(c.multicastGroup(), c.multicastPort(), c.multicastInterface(),
                    c.multicastTtl(), 4 << 20, () -> {
                    });
        } catch (SocketException e) {
            throw new IllegalStateException(e);
        }
    }

    public Map<String, String> settings() {
        return settings;
    }

    public Agent start(String nodeName) throws Exception {
        return start(nodeName, Map.of());
    }

    public Agent start(String nodeName, Map<String, String> overrides) throws Exception {
        return start(nodeName, overrides, System::currentTimeMillis);
    }

    /** @param clockMs the agent's clock, which a test may move on to pass time the agent measures */
    public Agent start(String nodeName, Map<String, String> overrides, LongSupplier clockMs) throws Exception {
        Map<String, String> m = new HashMap<>(settings);
        m.put("node-name", nodeName);
        // Several agents share this JVM's loopback: each takes a free metrics port.
        m.putIfAbsent("metrics-port", "0");
        m.putAll(overrides);
        AgentConfig config = AgentConfig.fromMap(m);
        SwitchableTransport[] holder = new SwitchableTransport[1];
        Agent agent = new Agent(config, clockMs, c -> {
            holder[0] = new SwitchableTransport(baseTransport.apply(c));
            return holder[0];
        });
        agent.start();
        synchronized (this) {
            agents.add(agent);
            transports.put(agent, holder[0]);
        }
        return agent;
    }

    /** Starts agents under these names at once; returns once each is ready and sees all the others. */
    public List<Agent> startReady(String... nodeNames) throws Exception {
        List<Agent> started = new ArrayList<>();
        for (String n : nodeNames) {
            started.add(start(n));
        }
        for (Agent a : started) {
            a.replicator().ready().get(10, TimeUnit.SECONDS);
        }
        Eventually.await(Duration.ofSeconds(5), () -> started.stream()
                .allMatch(x -> x.replicator().view().members().size() == nodeNames.length - 1),
                () -> "every agent sees the " + (nodeNames.length - 1) + " others");
        return started;
    }

    public synchronized SessionClient client(Agent agent) {
        return clients.computeIfAbsent(agent, a -> new SessionClient(a.grpcPort()));
    }

    /** Silences an agent's datagrams without a leave, as a crash or a pulled cable would. */
    public SwitchableTransport transport(Agent agent) {
        return transports.get(agent);
    }

    public synchronized List<Agent> agents() {
        return List.copyOf(agents);
    }

    public synchronized void stop(Agent agent) {
        SessionClient c = clients.remove(agent);
        if (c != null) {
            c.close();
        }
        agent.close();
        agents.remove(agent);
    }

    @Override
    public synchronized void close() {
        for (SessionClient c : clients.values()) {
            c.close();
        }
        clients.clear();
        for (Agent a : agents) {
            a.close();
        }
        agents.clear();
    }
}
