package io.sessionagent.agent.config;

/**
 * A single value failed to parse or is out of range. The message completes the sentence
 * "NAME: VALUE (SOURCE) ...", e.g. "must be between 1 and 65535".
 */
final class InvalidValueException extends Exception {

    private static final long serialVersionUID = 1L;

    InvalidValueException(String mustClause) {
        super(mustClause, null, false, false);
    }
}
