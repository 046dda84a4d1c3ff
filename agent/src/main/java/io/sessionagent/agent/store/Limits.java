package io.sessionagent.agent.store;

/** Size and count limits applied to local writes. */
public record Limits(long maxSessionBytes, int maxAttributes, long maxSessions, long maxTotalBytes) {
    public static Limits unlimited() {
        return new Limits(Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE);
    }
}
