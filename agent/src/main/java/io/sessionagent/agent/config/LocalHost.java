package io.sessionagent.agent.config;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** The local host name, reduced to the characters a node name may hold. */
final class LocalHost {

    private LocalHost() {}

    static String name() {
        String name;
        try {
            name = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException | SecurityException e) {
            // A host whose own name does not resolve is common in containers; HOSTNAME is then
            // usually still set, and a fixed fallback beats refusing to start.
            name = System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
        return sanitise(name);
    }

    static String sanitise(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._:-]", "-");
        if (s.isEmpty()) {
            s = "localhost";
        }
        // Leave room for "-" and a five-digit port within the 128 characters of a node name.
        return s.length() > 120 ? s.substring(0, 120) : s;
    }
}
