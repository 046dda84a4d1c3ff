package io.sessionagent.agent.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
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
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * UDP multicast over Netty: joins the group on one interface and sends on that interface only,
 * with the configured TTL. With the default interface {@code lo} nothing leaves the host.
 *
 * <p>The event loop's one thread ({@code sa-protocol}) also runs the replication protocol (see
 * {@link #ioLoop}): frames are handled where they are read and datagrams written where they are
 * made. A flush from another thread ({@link #sendAll}) is handed over as one task.
 */
public final class MulticastTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(MulticastTransport.class);
    /** A UDP datagram's largest payload: anything larger is cut by the kernel, so receive whole. */
    private static final int MAX_UDP_PAYLOAD = 65_507;
    /** At least the datagrams the replication stream hands over at once (SendStream). */
    private static final int MAX_DATAGRAMS_PER_READ = 128;

    private final InetAddress group;
    private final int port;
    private final NetworkInterface networkInterface;
    private final int ttl;
    private final int receiveBufferBytes;
    private final Runnable onSendError;
    private final InetSocketAddress groupAddress;
    /** One thread: the socket's I/O and, as {@link #ioLoop}, the replication protocol. */
    private final EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("sa-protocol", true), NioIoHandler.newFactory());
    private DatagramChannel channel;

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
    public void start(Receiver receiver) throws Exception {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channelFactory(() -> new NioDatagramChannel(SocketProtocolFamily.INET))
                .option(ChannelOption.SO_REUSEADDR, true)
                // Every read takes a buffer for the largest datagram; a pool hands one out cheaply.
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.SO_RCVBUF, receiveBufferBytes)
                .option(ChannelOption.IP_MULTICAST_IF, networkInterface)
                .option(ChannelOption.IP_MULTICAST_TTL, ttl)
                // Loopback on, so that agents of one host hear each other on any interface. Set on
                // the JDK socket directly: Netty's NIO config writes IP_MULTICAST_LOOP_DISABLED
                // unchanged into IP_MULTICAST_LOOP, so "disabled = false" switched the loop off.
                .option(NioChannelOption.of(StandardSocketOptions.IP_MULTICAST_LOOP), true)
                // As many datagrams per read as one hand-off sends: multicast loops every datagram
                // sent back into this socket, and reading fewer than were sent per turn of the loop
                // lets the socket's buffer overflow with this agent's own datagrams, dropping the
                // others' heartbeats and ACKs among them.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_UDP_PAYLOAD)
                        .maxMessagesPerRead(MAX_DATAGRAMS_PER_READ))
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        ByteBuf content = packet.content();
                        byte[] bytes = new byte[content.readableBytes()];
                        content.readBytes(bytes);
                        receiver.datagram(bytes);
                    }

                    @Override
                    public void channelReadComplete(ChannelHandlerContext ctx) {
                        receiver.burstEnd();
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
        log.info("joined multicast group {}:{} on {} (ttl {})", group.getHostAddress(), port,
                networkInterface.getName(), ttl);
    }

    @Override
    public void send(byte[] datagram) {
        DatagramChannel ch = channel;
        if (ch == null || !ch.isActive()) {
            onSendError.run();
            return;
        }
        ch.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), groupAddress))
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        onSendError.run();
                    }
                });
    }

    @Override
    public void sendAll(List<byte[]> datagrams) {
        DatagramChannel ch = channel;
        if (ch == null || !ch.isActive()) {
            datagrams.forEach(d -> onSendError.run());
            return;
        }
        if (datagrams.size() == 1) {
            send(datagrams.get(0));
            return;
        }
        Runnable writeAll = () -> {
            for (byte[] d : datagrams) {
                ch.write(new DatagramPacket(Unpooled.wrappedBuffer(d), groupAddress)).addListener(f -> {
                    if (!f.isSuccess()) {
                        onSendError.run();
                    }
                });
            }
            ch.flush();
        };
        if (ch.eventLoop().inEventLoop()) {
            writeAll.run();
        } else {
            ch.eventLoop().execute(writeAll);
        }
    }

    @Override
    public Optional<ScheduledExecutorService> ioLoop() {
        return Optional.of(loop.next());
    }

    @Override
    public void close() {
        DatagramChannel ch = channel;
        if (ch != null) {
            try {
                ch.leaveGroup(groupAddress, networkInterface).await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
