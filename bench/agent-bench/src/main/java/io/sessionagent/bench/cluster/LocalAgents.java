package io.sessionagent.bench.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Agents in this JVM on one random multicast group on {@code lo}, wired exactly as {@code Main}
 * wires them (real UDP multicast, real gRPC peer channel). In-JVM so that the harness can see each
 * apply on the replica as it happens; the peers it is compared with run in-JVM too.
 */
final class LocalAgents implements AutoCloseable {
    private final Map<String, String> settings = new HashMap<>();
    private final List<Agent> agents = new ArrayList<>();

    LocalAgents(String clusterName, Random random) {
        this(clusterName, random, Map.of());
    }

    /** @param overrides settings that differ from the defaults besides the loopback ones */
    LocalAgents(String clusterName, Random random, Map<String, String> overrides) {
        settings.put("cluster-name", clusterName);
        settings.put("multicast-group", "239.255." + (1 + random.nextInt(254)) + "." + (1 + random.nextInt(254)));
        settings.put("multicast-port", Integer.toString(20_000 + random.nextInt(40_000)));
        settings.put("multicast-interface", "lo");
        settings.put("multicast-ttl", "0");
        settings.put("grpc-port", "0");
        settings.put("peer-port", "0");
        settings.put("metrics-port", "0");
        settings.put("peer-address", "127.0.0.1");
        settings.put("join-wait", "800ms");
        settings.putAll(overrides);
    }

    Agent start(String nodeName) throws Exception {
        Map<String, String> m = new HashMap<>(settings);
        m.put("node-name", nodeName);
        Agent agent = new Agent(AgentConfig.fromMap(m));
        agent.start();
        synchronized (this) {
            agents.add(agent);
        }
        return agent;
    }

    static void awaitReady(Agent agent, long timeoutMs) throws Exception {
        agent.replicator().ready().get(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Waits until {@code a} sees {@code b} as a ready member, so deltas from a reach b's table. */
    static void awaitPeer(Agent a, Agent b, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (a.replicator().readyMembers().stream().noneMatch(m -> m.id() == b.memberId())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("agent " + Long.toHexString(b.memberId()) + " not seen as ready");
            }
            Thread.sleep(20);
        }
    }

    @Override
    public synchronized void close() {
        for (Agent a : agents) {
            a.close();
        }
        agents.clear();
    }
}
