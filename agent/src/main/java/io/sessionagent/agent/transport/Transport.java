package io.sessionagent.agent.transport;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/** Sends datagrams to the cluster's group and hands every datagram received to one receiver. */
public interface Transport extends AutoCloseable {

    /** What the transport hands datagrams to, on its I/O thread. */
    interface Receiver {
        /** One datagram; must not block. */
        void datagram(byte[] datagram);

        /** The datagrams read in one go were all handed over; more may come later. */
        default void burstEnd() {
        }
    }

    /** Starts receiving. */
    void start(Receiver receiver) throws Exception;

    /** Sends one datagram to every member (including, on multicast loop, this one). Never blocks. */
    void send(byte[] datagram);

    /** Sends datagrams in this order, as {@link #send} does each; a transport may hand them over together. */
    default void sendAll(List<byte[]> datagrams) {
        for (byte[] d : datagrams) {
            send(d);
        }
    }

    /**
     * The thread that reads and writes the datagrams, as a scheduler the protocol can run on: a
     * frame is then handled where it was read and a datagram leaves from where it was made, with
     * no hand-off between threads. Empty when the transport's thread must not run anything else.
     */
    default Optional<ScheduledExecutorService> ioLoop() {
        return Optional.empty();
    }

    @Override
    void close();
}
