package io.sessionagent.bench.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The physical limit on this machine: one thread blasts 1 KB UDP datagrams to a multicast group
 * on {@code lo} (TTL 0, loop on), another receives and counts. No reliability, no ordering.
 */
final class RawMulticast {
    record Result(Throughput received, double sentPerSecond) {
    }

    private RawMulticast() {
    }

    static Result run(Random random, long ms) throws Exception {
        NetworkInterface lo = NetworkInterface.getByName("lo");
        InetAddress group = InetAddress.getByName("239.253." + (1 + random.nextInt(254)) + "."
                + (1 + random.nextInt(254)));
        int port = 20_000 + random.nextInt(40_000);
        AtomicLong received = new AtomicLong();
        try (DatagramChannel in = DatagramChannel.open(StandardProtocolFamily.INET);
             DatagramChannel out = DatagramChannel.open(StandardProtocolFamily.INET)) {
            in.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            in.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            in.bind(new InetSocketAddress(port));
            in.join(group, lo);
            out.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo);
            out.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 0);
            out.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
            out.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Thread counter = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(2048);
                try {
                    while (true) {
                        buf.clear();
                        in.receive(buf);
                        received.incrementAndGet();
                    }
                } catch (IOException closed) {
                    // The channel closes when the run ends.
                }
            }, "raw-multicast-receiver");
            counter.setDaemon(true);
            counter.start();
            ByteBuffer payload = ByteBuffer.allocateDirect(1024);
            InetSocketAddress target = new InetSocketAddress(group, port);
            long sent = 0;
            long t0 = System.nanoTime();
            long end = t0 + TimeUnit.MILLISECONDS.toNanos(ms);
            Throughput.Window w = Throughput.start(received.get());
            while (System.nanoTime() < end) {
                payload.clear();
                out.send(payload, target);
                sent++;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            // What is still in the socket buffer arrived within the window: let the receiver count it.
            Thread.sleep(20);
            return new Result(w.end(received.get()), sent / seconds);
        }
    }
}
