package io.sessionagent.bench.cluster;

import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * JGroups' own {@code udp.xml} stack (reliable multicast: NAKACK2, flow control MFC/UFC, bundling)
 * with two members in this JVM; one sends 1 KB messages as fast as its flow control lets it, the
 * other counts. The only changes to the stack keep it on loopback: bind_addr 127.0.0.1 (the
 * multicast socket's interface follows it), a random group, ip_ttl 0, diagnostics off, and FD_SOCK2's
 * server on 127.0.0.1.
 */
final class JGroupsThroughput implements AutoCloseable {
    private final JChannel sender;
    private final JChannel receiver;
    private final AtomicLong received = new AtomicLong();

    JGroupsThroughput(Random random) throws Exception {
        String config = loopbackUdpXml(random);
        String cluster = "bench-" + Long.toHexString(random.nextLong());
        receiver = new JChannel(stream(config)).name("receiver");
        receiver.setReceiver(new Receiver() {
            @Override
            public void receive(Message msg) {
                received.incrementAndGet();
            }
        });
        receiver.connect(cluster);
        sender = new JChannel(stream(config)).name("sender");
        sender.setDiscardOwnMessages(true);
        sender.connect(cluster);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (receiver.getView().size() < 2 || sender.getView().size() < 2) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("JGroups members did not see each other: " + receiver.getView());
            }
            Thread.sleep(20);
        }
    }

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    static String loopbackUdpXml(Random random) throws IOException {
        String xml;
        try (InputStream in = JChannel.class.getClassLoader().getResourceAsStream("udp.xml")) {
            if (in == null) {
                throw new IOException("udp.xml is not in the JGroups jar");
            }
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String group = "239.254." + (1 + random.nextInt(254)) + "." + (1 + random.nextInt(254));
        int port = 20_000 + random.nextInt(40_000);
        String loopback = "<UDP bind_addr=\"127.0.0.1\" mcast_addr=\"" + group + "\" ip_ttl=\"0\""
                + " diag.enabled=\"false\"";
        if (!xml.contains("<UDP") || !xml.contains("<FD_SOCK2")) {
            throw new IOException("udp.xml has no UDP transport or no FD_SOCK2");
        }
        // FD_SOCK2's failure-detection server would otherwise listen on every interface.
        return xml.replace("<UDP", loopback)
                .replace("<FD_SOCK2", "<FD_SOCK2 bind_addr=\"127.0.0.1\"")
                .replace("${jgroups.udp.mcast_port:45588}", Integer.toString(port));
    }

    /** Messages per second received by the other member while one sends for {@code ms}. */
    Throughput rate(long warmupMs, long ms, byte[] payload) throws Exception {
        long warm = received.get() + send(warmupMs, payload);
        awaitReceived(warm);
        Throughput.Window w = Throughput.start(received.get());
        long target = received.get() + send(ms, payload);
        // What was sent counts once the receiver has it: the window ends when it caught up.
        awaitReceived(target);
        return w.end(received.get());
    }

    private void awaitReceived(long target) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (received.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
    }

    private long send(long ms, byte[] payload) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long n = 0;
        while (System.nanoTime() < end) {
            sender.send(new BytesMessage(null, payload));
            n++;
        }
        return n;
    }

    @Override
    public void close() {
        sender.close();
        receiver.close();
    }
}
