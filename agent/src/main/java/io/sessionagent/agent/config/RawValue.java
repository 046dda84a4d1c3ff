package io.sessionagent.agent.config;

import java.util.Objects;

/** A setting's text as found in one layer, before parsing. */
record RawValue(String text, Source source) {
    RawValue {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(source, "source");
    }
}
