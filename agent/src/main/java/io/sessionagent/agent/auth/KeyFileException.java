package io.sessionagent.agent.auth;

/** A key file that cannot be used; the message names the file and the line. */
public final class KeyFileException extends Exception {
    public KeyFileException(String message) {
        super(message);
    }

    public KeyFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
