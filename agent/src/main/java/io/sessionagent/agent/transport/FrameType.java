package io.sessionagent.agent.transport;

/** The message types of the wire protocol; the number is what travels in the header. */
public enum FrameType {
    HEARTBEAT(1),
    LEAVE(2),
    DATA(3),
    NAK(4),
    GONE(5),
    ACK(6);

    private static final FrameType[] BY_CODE = new FrameType[7];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    final int code;

    FrameType(int code) {
        this.code = code;
    }

    /** Null for an unknown code. */
    static FrameType of(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
