package io.sessionagent.agent.auth;

import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Mutual TLS on the peer channel: each agent presents a certificate from the cluster's CA and
 * accepts only peers that do, their certificate naming the address they are reached at (gRPC
 * checks it as HTTPS does). Where the cluster key proves that a message comes from someone who
 * holds the shared secret, TLS gives each node an identity of its own that can be revoked by
 * reissuing, and forward secrecy for what the peer calls carry. The two may be used together.
 */
public final class PeerTls {
    private final SslContext server;
    private final SslContext client;

    private PeerTls(SslContext server, SslContext client) {
        this.server = server;
        this.client = client;
    }

    /**
     * @return empty when none of the three files is set
     * @throws KeyFileException when only some are set, or they cannot be read or do not fit together
     */
    public static Optional<PeerTls> of(Optional<Path> cert, Optional<Path> key, Optional<Path> ca)
            throws KeyFileException {
        if (cert.isEmpty() && key.isEmpty() && ca.isEmpty()) {
            return Optional.empty();
        }
        List<String> missing = new ArrayList<>();
        cert.ifPresentOrElse(p -> { }, () -> missing.add("peer-tls-cert-file"));
        key.ifPresentOrElse(p -> { }, () -> missing.add("peer-tls-key-file"));
        ca.ifPresentOrElse(p -> { }, () -> missing.add("peer-tls-ca-file"));
        if (!missing.isEmpty()) {
            throw new KeyFileException("peer TLS needs peer-tls-cert-file, peer-tls-key-file and peer-tls-ca-file"
                    + " together; missing: " + String.join(", ", missing));
        }
        for (Path p : List.of(cert.get(), key.get(), ca.get())) {
            if (!Files.isReadable(p)) {
                throw new KeyFileException("peer TLS file " + p + " cannot be read");
            }
        }
        try {
            SslContext server = GrpcSslContexts.forServer(cert.get().toFile(), key.get().toFile())
                    .trustManager(ca.get().toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
            SslContext client = GrpcSslContexts.forClient()
                    .keyManager(cert.get().toFile(), key.get().toFile())
                    .trustManager(ca.get().toFile())
                    .build();
            return Optional.of(new PeerTls(server, client));
        } catch (SSLException | IllegalArgumentException e) {
            throw new KeyFileException("peer TLS files " + cert.get() + ", " + key.get() + ", " + ca.get()
                    + " cannot be used: " + e.getMessage(), e);
        }
    }

    /** For the PeerService: presents this agent's certificate, requires the caller's. */
    public SslContext server() {
        return server;
    }

    /** For calls to other agents: presents this agent's certificate, trusts the cluster's CA only. */
    public SslContext client() {
        return client;
    }
}
