package io.sessionagent.agent.http;

import io.sessionagent.agent.config.TokenFile;
import io.sessionagent.agent.http.OperatorHttpServer.Request;
import io.sessionagent.agent.http.OperatorHttpServer.Response;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Who may call the admin endpoints that change the agent (switch replication, drain). With an
 * admin token, only a request that presents it; without one, anyone who reaches the port, and
 * only while the port is on loopback: an agent serving metrics on a real address (as a container
 * does, for Prometheus) must not let whoever scrapes it also drain it.
 */
public final class AdminAccess {
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
        return new AdminAccess(tokenFile.isPresent() ? TokenFile.read(tokenFile.get(), "admin-token-file").getBytes(StandardCharsets.UTF_8) : null,
                metricsAddress);
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
