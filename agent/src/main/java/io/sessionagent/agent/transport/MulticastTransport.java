package io.sessionagent.agent.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * UDP multicast: joins the group on one interface and sends on that interface only, with the
 * configured TTL. With the default interface {@code lo} nothing leaves the host.
 *
 * <p>Receiving runs on a Netty event loop. Sending goes straight from the calling thread (the
 * protocol thread) through a socket of its own, without a hand-off to the event loop and its
 * wake-up per datagram; only when that socket's send buffer is full does a datagram queue on the
 * Netty channel, and later ones follow it there until the queue has drained, so the order holds.
 */
public final class MulticastTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(MulticastTransport.class);
    /** A UDP datagram's largest payload: anything larger is cut by the kernel, so receive whole. */
    private static final int MAX_UDP_PAYLOAD = 65_507;

    private final InetAddress group;
    private final int port;
    private final NetworkInterface networkInterface;
    private final int ttl;
    private final int receiveBufferBytes;
    private final Runnable onSendError;
    private final InetSocketAddress groupAddress;
    private EventLoopGroup loop;
    private DatagramChannel channel;
    private java.nio.channels.DatagramChannel sender;
    /** Datagrams queued on the Netty channel and not yet written: while any are, new ones queue too. */
    private final AtomicInteger queued = new AtomicInteger();

    public MulticastTransport(InetAddress group, int port, String interfaceName, int ttl, int receiveBufferBytes,
                              Runnable onSendError) throws SocketException {
        this.group = group;
        this.port = port;
        this.networkInterface = NetworkInterface.getByName(interfaceName);
        if (networkInterface == null) {
            throw new SocketException("no network interface named " + interfaceName);
        }
        this.ttl = ttl;
        this.receiveBufferBytes = receiveBufferBytes;
        this.onSendError = onSendError;
        this.groupAddress = new InetSocketAddress(group, port);
    }

    @Override
    public void start(Consumer<byte[]> receiver) throws Exception {
        loop = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channelFactory(() -> new NioDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_RCVBUF, receiveBufferBytes)
                .option(ChannelOption.IP_MULTICAST_IF, networkInterface)
                .option(ChannelOption.IP_MULTICAST_TTL, ttl)
                // Loopback on, so that agents of one host hear each other on any interface. Set on
                // the JDK socket directly: Netty's NIO config writes IP_MULTICAST_LOOP_DISABLED
                // unchanged into IP_MULTICAST_LOOP, so "disabled = false" switched the loop off.
                .option(NioChannelOption.of(StandardSocketOptions.IP_MULTICAST_LOOP), true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_UDP_PAYLOAD))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        ByteBuf content = packet.content();
                        byte[] bytes = new byte[content.readableBytes()];
                        content.readBytes(bytes);
                        receiver.accept(bytes);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        log.warn("multicast channel error: {}", cause.toString());
                    }
                });
        // Binding to the group address (not the wildcard) keeps datagrams of other groups that
        // share the port out of this socket on Linux.
        channel = (DatagramChannel) b.bind(new InetSocketAddress(group, port)).sync().channel();
        channel.joinGroup(groupAddress, networkInterface).sync();
        sender = openSender();
        log.info("joined multicast group {}:{} on {} (ttl {})", group.getHostAddress(), port,
                networkInterface.getName(), ttl);
    }

    /**
     * The sending socket: non-blocking, on the group's interface with its TTL and loopback on,
     * bound to the interface's own address (the wildcard only when it has no IPv4 address).
     */
    private java.nio.channels.DatagramChannel openSender() throws IOException {
        java.nio.channels.DatagramChannel s = java.nio.channels.DatagramChannel.open(
                StandardProtocolFamily.INET);
        s.setOption(StandardSocketOptions.IP_MULTICAST_IF, networkInterface);
        s.setOption(StandardSocketOptions.IP_MULTICAST_TTL, ttl);
        s.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
        s.setOption(StandardSocketOptions.SO_SNDBUF, receiveBufferBytes);
        s.configureBlocking(false);
        InetAddress local = null;
        for (InetAddress a : Collections.list(networkInterface.getInetAddresses())) {
            if (a instanceof Inet4Address) {
                local = a;
                break;
            }
        }
        s.bind(new InetSocketAddress(local, 0));
        return s;
    }

    @Override
    public void send(byte[] datagram) {
        DatagramChannel ch = channel;
        java.nio.channels.DatagramChannel direct = sender;
        if (ch == null || !ch.isActive() || direct == null) {
            onSendError.run();
            return;
        }
        if (queued.get() == 0) {
            try {
                if (direct.send(ByteBuffer.wrap(datagram), groupAddress) > 0) {
                    return;
                }
            } catch (IOException e) {
                onSendError.run();
                return;
            }
        }
        // The socket's buffer is full (or datagrams wait already): queue behind them, never drop.
        queued.incrementAndGet();
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), groupAddress))
                .addListener(f -> {
                    queued.decrementAndGet();
                    if (!f.isSuccess()) {
                        onSendError.run();
                    }
                });
    }

    @Override
    public void close() {
        java.nio.channels.DatagramChannel direct = sender;
        if (direct != null) {
            try {
                direct.close();
            } catch (IOException e) {
                log.debug("closing the sending socket: {}", e.toString());
            }
        }
        DatagramChannel ch = channel;
        if (ch != null) {
            try {
                ch.leaveGroup(groupAddress, networkInterface).await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        if (loop != null) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }
}
