package io.sessionagent.agent.http;

import io.sessionagent.agent.http.OperatorHttpServer.Request;
import io.sessionagent.agent.http.OperatorHttpServer.Response;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * Who may call the admin endpoints that change the agent (switch replication, drain). With an
 * admin token, only a request that presents it; without one, anyone who reaches the port, and
 * only while the port is on loopback: an agent serving metrics on a real address (as a container
 * does, for Prometheus) must not let whoever scrapes it also drain it.
 */
public final class AdminAccess {
    /** Shorter tokens can be guessed; 32 characters of base64 are 192 bits. */
    static final int MIN_TOKEN_CHARS = 32;

    private final byte[] token;
    private final boolean loopback;
    private final String address;

    private AdminAccess(byte[] token, String metricsAddress) {
        this.token = token;
        this.address = metricsAddress;
        this.loopback = isLoopback(metricsAddress);
    }

    /**
     * @param tokenFile the admin-token-file setting
     * @throws IOException when the file cannot be read or holds no usable token; the message names the file
     */
    public static AdminAccess of(Optional<Path> tokenFile, String metricsAddress) throws IOException {
        return new AdminAccess(tokenFile.isPresent() ? read(tokenFile.get()).getBytes(StandardCharsets.UTF_8) : null,
                metricsAddress);
    }

    /** The token in the file: its first line without surrounding blanks. */
    public static String read(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("admin-token-file " + file + " cannot be read: " + e.getMessage(), e);
        }
        String t = lines.isEmpty() ? "" : lines.get(0).strip();
        if (t.length() < MIN_TOKEN_CHARS) {
            throw new IOException("admin-token-file " + file + " must hold a token of at least " + MIN_TOKEN_CHARS
                    + " characters on its first line (e.g. head -c 32 /dev/urandom | base64 > " + file + ")");
        }
        return t;
    }

    boolean hasToken() {
        return token != null;
    }

    /** Null when the request may change the agent, else the answer that refuses it. */
    Response refusal(Request r) {
        if (token == null) {
            return loopback ? null : Response.text(403, "admin changes are off: metrics-address " + address
                    + " is not a loopback address and no admin-token-file is set");
        }
        String presented = r.authorization().startsWith("Bearer ") ? r.authorization().substring(7).strip() : "";
        // Constant time: the answer's timing must not tell how much of a guess was right.
        if (!MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
            return Response.text(401, presented.isEmpty()
                    ? "this agent requires its admin token: send Authorization: Bearer <token> (the CLI reads"
                    + " admin-token-file)"
                    : "wrong admin token");
        }
        return null;
    }

    private static boolean isLoopback(String address) {
        try {
            // An IP literal (the setting allows no names): no lookup.
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }
}
