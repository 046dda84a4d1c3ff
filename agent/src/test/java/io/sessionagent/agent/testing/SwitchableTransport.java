package io.sessionagent.agent.testing;

import io.sessionagent.agent.transport.Transport;

import java.util.function.Consumer;

/** Wraps a real transport; when cut, nothing goes out or comes in, as if the node lost power. */
public final class SwitchableTransport implements Transport {
    private final Transport delegate;
    private volatile boolean cut;

    public SwitchableTransport(Transport delegate) {
        this.delegate = delegate;
    }

    public void cut() {
        cut = true;
    }

    public void heal() {
        cut = false;
    }

    @Override
    public void start(Consumer<byte[]> receiver) throws Exception {
        delegate.start(d -> {
            if (!cut) {
                receiver.accept(d);
            }
        });
    }

    @Override
    public void send(byte[] datagram) {
        if (!cut) {
            delegate.send(datagram);
        }
    }

    @Override
    public void close() {
        delegate.close();
    }
}
