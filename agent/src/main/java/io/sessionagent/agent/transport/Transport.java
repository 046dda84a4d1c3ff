package io.sessionagent.agent.transport;

import java.util.List;
import java.util.function.Consumer;

/** Sends datagrams to the cluster's group and hands every datagram received to one receiver. */
public interface Transport extends AutoCloseable {
    /** Starts receiving; {@code receiver} runs on the transport's I/O thread and must not block. */
    void start(Consumer<byte[]> receiver) throws Exception;

    /** Sends one datagram to every member (including, on multicast loop, this one). Never blocks. */
    void send(byte[] datagram);

    /** Sends datagrams in this order, as {@link #send} does each; a transport may hand them over together. */
    default void sendAll(List<byte[]> datagrams) {
        for (byte[] d : datagrams) {
            send(d);
        }
    }

    @Override
    void close();
}
