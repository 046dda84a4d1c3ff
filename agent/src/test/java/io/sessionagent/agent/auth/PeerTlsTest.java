package io.sessionagent.agent.auth;

import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyServerBuilder;
import io.sessionagent.agent.api.PeerServiceImpl;
import io.sessionagent.agent.metrics.Counters;
import io.sessionagent.agent.replication.PeerClients;
import io.sessionagent.agent.store.Limits;
import io.sessionagent.agent.store.SessionTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The PeerService over real gRPC with mutual TLS: only peers with a certificate from the cluster's CA get in. */
class PeerTlsTest {
    @TempDir
    Path dir;
    private TestCertificates certs;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void cas() throws Exception {
        certs = TestCertificates.in(dir);
        certs.ca("cluster-ca");
        certs.ca("rogue-ca");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private static PeerTls tls(TestCertificates.Issued i) throws KeyFileException {
        return PeerTls.of(Optional.of(i.cert()), Optional.of(i.key()), Optional.of(i.ca())).orElseThrow();
    }

    private String serve(PeerTls tls) throws Exception {
        SessionTable table = new SessionTable(Limits.unlimited(), System::currentTimeMillis, 0, 60_000);
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new PeerServiceImpl(table, new Counters(), "shop")).sslContext(tls.server()).build().start();
        open.add(() -> server.shutdownNow().awaitTermination());
        return "127.0.0.1:" + server.getPort();
    }

    private PeerClients client(PeerTls tls) {
        PeerClients c = new PeerClients("shop", 7, 1 << 20, null, tls == null ? null : tls.client());
        open.add(c);
        return c;
    }

    @Test
    void peersWithCertificatesFromTheClusterCaTalk() throws Exception {
        String address = serve(tls(certs.issue("cluster-ca", "node1", "127.0.0.1")));
        assertThat(client(tls(certs.issue("cluster-ca", "node2", "127.0.0.1"))).digest(address, 64, 5_000))
                .hasSize(64);
    }

    @Test
    void aCallerWithAnotherCasCertificateOrNoneIsRefused() throws Exception {
        String address = serve(tls(certs.issue("cluster-ca", "node1", "127.0.0.1")));
        TestCertificates.Issued rogue = certs.issue("rogue-ca", "rogue", "127.0.0.1");
        // A rogue certificate, trusting the cluster's CA so that only the server's check can stop it.
        PeerTls rogueTrustingCluster = PeerTls.of(Optional.of(rogue.cert()), Optional.of(rogue.key()),
                Optional.of(dir.resolve("cluster-ca.pem"))).orElseThrow();
        assertThatThrownBy(() -> client(rogueTrustingCluster).digest(address, 64, 5_000))
                .isInstanceOf(StatusRuntimeException.class);
        assertThatThrownBy(() -> client(null).digest(address, 64, 5_000)).isInstanceOf(StatusRuntimeException.class);
        // The server goes on serving members.
        assertThat(client(tls(certs.issue("cluster-ca", "node2", "127.0.0.1"))).digest(address, 64, 5_000))
                .hasSize(64);
    }

    @Test
    void aServerWhoseCertificateIsNotFromTheCaOrDoesNotNameItsAddressIsRefused() throws Exception {
        PeerTls member = tls(certs.issue("cluster-ca", "node2", "127.0.0.1"));
        String rogueServer = serve(tls(certs.issue("rogue-ca", "rogue", "127.0.0.1")));
        assertThatThrownBy(() -> client(member).digest(rogueServer, 64, 5_000))
                .isInstanceOf(StatusRuntimeException.class);
        String elsewhere = serve(tls(certs.issue("cluster-ca", "node3", "10.9.9.9")));
        assertThatThrownBy(() -> client(member).digest(elsewhere, 64, 5_000))
                .isInstanceOf(StatusRuntimeException.class);
    }

    @Test
    void theThreeFilesGoTogether() throws Exception {
        TestCertificates.Issued i = certs.issue("cluster-ca", "node1", "127.0.0.1");
        assertThat(PeerTls.of(Optional.empty(), Optional.empty(), Optional.empty())).isEmpty();
        assertThatThrownBy(() -> PeerTls.of(Optional.of(i.cert()), Optional.empty(), Optional.of(i.ca())))
                .isInstanceOf(KeyFileException.class).hasMessageContaining("missing: peer-tls-key-file");
        assertThatThrownBy(() -> PeerTls.of(Optional.of(i.cert()), Optional.of(i.cert()), Optional.of(i.ca())))
                .isInstanceOf(KeyFileException.class).hasMessageContaining("cannot be used");
    }
}
