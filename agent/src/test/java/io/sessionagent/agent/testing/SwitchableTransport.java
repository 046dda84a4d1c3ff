package io.sessionagent.agent.testing;

import io.sessionagent.agent.transport.Transport;

import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

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
    public void start(Receiver receiver) throws Exception {
        delegate.start(new Receiver() {
            @Override
            public void datagram(byte[] d) {
                if (!cut) {
                    receiver.datagram(d);
                }
            }

            @Override
            public void burstEnd() {
                receiver.burstEnd();
            }
        });
    }

    @Override
    public Optional<ScheduledExecutorService> ioLoop() {
        return delegate.ioLoop();
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
