package io.sessionagent.agent.auth;

/** A sealed frame refused: it failed authentication, or it was authentic but seen before. */
public final class AuthFailure extends Exception {
    private final boolean replay;

    AuthFailure(boolean replay, String message) {
        super(message, null, false, false);
        this.replay = replay;
    }

    public boolean isReplay() {
        return replay;
    }
}
