package io.sessionagent.agent.transport;

/** A datagram that cannot be accepted; carries the reason for the drop counters. */
public final class FrameException extends Exception {
    private final DropReason reason;

    public FrameException(DropReason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public DropReason reason() {
        return reason;
    }
}
