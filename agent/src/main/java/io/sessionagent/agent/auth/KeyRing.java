package io.sessionagent.agent.auth;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The keys an agent holds: the first seals what it sends, every one of them opens what it
 * receives. Holding the old and the new key together is what lets a cluster rotate without a
 * moment in which two agents cannot read each other.
 */
public final class KeyRing {
    private final List<ClusterKey> keys;
    private final Map<Integer, ClusterKey> byId = new HashMap<>();

    public KeyRing(List<ClusterKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("a key ring needs at least one key");
        }
        for (ClusterKey k : keys) {
            if (byId.put(k.id(), k) != null) {
                throw new IllegalArgumentException("key id " + k.id() + " appears twice");
            }
        }
        this.keys = List.copyOf(keys);
    }

    /**
     * Reads the key file format: one key per line as {@code <id>:<base64 of 16, 24 or 32 bytes>},
     * the sending key first; blank lines and lines starting with {@code #} are ignored.
     *
     * @param source names the text in error messages (a file name)
     */
    public static KeyRing parse(String text, String source) throws KeyFileException {
        List<ClusterKey> keys = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = source + " line " + (i + 1);
            int colon = line.indexOf(':');
            if (colon < 1) {
                throw new KeyFileException(where + ": expected <id>:<base64 key>");
            }
            int id;
            try {
                id = Integer.parseInt(line.substring(0, colon).strip());
            } catch (NumberFormatException e) {
                throw new KeyFileException(where + ": key id is not a number");
            }
            byte[] material;
            try {
                material = Base64.getDecoder().decode(line.substring(colon + 1).strip()
                        .getBytes(StandardCharsets.US_ASCII));
            } catch (IllegalArgumentException e) {
                throw new KeyFileException(where + ": key is not base64");
            }
            try {
                keys.add(new ClusterKey(id, material));
            } catch (IllegalArgumentException e) {
                throw new KeyFileException(where + ": " + e.getMessage());
            }
        }
        if (keys.isEmpty()) {
            throw new KeyFileException(source + ": no key in it");
        }
        try {
            return new KeyRing(keys);
        } catch (IllegalArgumentException e) {
            throw new KeyFileException(source + ": " + e.getMessage());
        }
    }

    /** The key that seals what this agent sends. */
    public ClusterKey sending() {
        return keys.get(0);
    }

    /** The key of that id, or null: a frame naming an unknown id cannot be opened. */
    public ClusterKey byId(int id) {
        return byId.get(id);
    }

    public List<ClusterKey> keys() {
        return keys;
    }

    boolean sameAs(KeyRing other) {
        if (keys.size() != other.keys.size()) {
            return false;
        }
        for (int i = 0; i < keys.size(); i++) {
            if (!keys.get(i).sameAs(other.keys.get(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return keys.stream().map(k -> String.valueOf(k.id())).collect(Collectors.joining(", ",
                "keys [", "] (sending with " + sending().id() + ")"));
    }
}
