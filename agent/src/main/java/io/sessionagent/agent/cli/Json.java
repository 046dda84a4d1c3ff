package io.sessionagent.agent.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;

import java.math.BigInteger;

/**
 * How the CLI writes JSON: with Gson, HTML characters left as they are (the output goes to
 * scripts and terminals, not into pages), and the proto's unsigned 64-bit values as plain JSON
 * numbers in their unsigned value, which a Java long's own text would turn negative.
 */
final class Json {
    private static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();

    private Json() {
    }

    /** Indented by two spaces, one key per line, for a person to read and a script to parse. */
    static String pretty(JsonElement e) {
        return PRETTY.toJson(e);
    }

    /** On one line, as list and get print each record. */
    static String compact(JsonElement e) {
        return COMPACT.toJson(e);
    }

    static JsonPrimitive unsigned(long value) {
        return new JsonPrimitive(value >= 0 ? BigInteger.valueOf(value)
                : new BigInteger(Long.toUnsignedString(value)));
    }
}
