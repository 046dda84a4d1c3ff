package io.sessionagent.agent.testing;

import io.sessionagent.agent.transport.Transport;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A multicast group inside this JVM with a fault layer in the manner of JGroups' DISCARD and
 * Aeron's loss generators: each delivery may be dropped, duplicated, delayed (which reorders),
 * or truncated, with seeded randomness; members can be partitioned from each other.
 */
public final class InProcessNetwork implements AutoCloseable {
    /** Probabilities per delivery, and the largest delay in milliseconds. */
    public record Faults(double drop, double duplicate, double delay, int maxDelayMs, double truncate) {
        public static final Faults NONE = new Faults(0, 0, 0, 0, 0);
    }

    private final List<Endpoint> endpoints = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService delayer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "in-process-network");
        t.setDaemon(true);
        return t;
    });
    private final Random random;
    private volatile Faults faults = Faults.NONE;
    private volatile Set<String> islandA = Set.of();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong duplicated = new AtomicLong();
    private final AtomicLong delayed = new AtomicLong();
    private final AtomicLong truncated = new AtomicLong();

    public InProcessNetwork(long seed) {
        this.random = new Random(seed);
    }

    public void setFaults(Faults faults) {
        this.faults = faults;
    }

    /** Cuts the named members off from all others until {@link #heal}. */
    public void partition(Set<String> island) {
        this.islandA = Set.copyOf(island);
    }

    public void heal() {
        this.islandA = Set.of();
    }

    public String stats() {
        return "dropped=" + dropped + " duplicated=" + duplicated + " delayed=" + delayed + " truncated=" + truncated;
    }

    /** A transport for the member of that name. */
    public Transport endpoint(String name) {
        return new Endpoint(name);
    }

    private synchronized double roll() {
        return random.nextDouble();
    }

    private synchronized int nextInt(int bound) {
        return random.nextInt(bound);
    }

    private void deliver(Endpoint from, byte[] datagram) {
        Set<String> island = islandA;
        Faults f = faults;
        for (Endpoint to : endpoints) {
            if (!island.isEmpty() && island.contains(from.name) != island.contains(to.name)) {
                continue;
            }
            if (to == from) {
                to.receive(datagram);
                continue;
            }
            if (roll() < f.drop()) {
                dropped.incrementAndGet();
                continue;
            }
            int copies = roll() < f.duplicate() ? 2 : 1;
            if (copies == 2) {
                duplicated.incrementAndGet();
            }
            for (int i = 0; i < copies; i++) {
                byte[] d = datagram;
                if (roll() < f.truncate()) {
                    truncated.incrementAndGet();
                    d = Arrays.copyOf(datagram, nextInt(datagram.length));
                }
                if (roll() < f.delay() && f.maxDelayMs() > 0) {
                    delayed.incrementAndGet();
                    byte[] late = d;
                    delayer.schedule(() -> to.receive(late), 1 + nextInt(f.maxDelayMs()), TimeUnit.MILLISECONDS);
                } else {
                    to.receive(d);
                }
            }
        }
    }

    @Override
    public void close() {
        delayer.shutdownNow();
    }

    private final class Endpoint implements Transport {
        final String name;
        volatile Receiver receiver;

        Endpoint(String name) {
            this.name = name;
        }

        void receive(byte[] d) {
            Receiver r = receiver;
            if (r != null) {
                r.datagram(d);
                r.burstEnd();
            }
        }

        @Override
        public void start(Receiver receiver) {
            this.receiver = receiver;
            endpoints.add(this);
        }

        @Override
        public void send(byte[] datagram) {
            deliver(this, datagram);
        }

        @Override
        public void close() {
            endpoints.remove(this);
            receiver = null;
        }
    }
}
