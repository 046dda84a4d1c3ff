package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.auth.TestCertificates;
import io.sessionagent.agent.testing.Eventually;
import io.sessionagent.agent.testing.SessionClient;
import io.sessionagent.agent.testing.TestCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real agents with mutual TLS on the peer channel: a joiner with a certificate from the cluster's
 * CA takes the table by state transfer over it; a joiner with another CA's certificate gets none.
 */
@Execution(ExecutionMode.CONCURRENT)
class PeerTlsClusterTest {
    @TempDir
    Path dir;
    private final TestCluster cluster = new TestCluster("peer-tls-" + System.nanoTime());

    @AfterEach
    void tearDown() {
        cluster.close();
    }

    private static Map<String, String> settings(TestCertificates.Issued i) {
        return Map.of("peer-tls-cert-file", i.cert().toString(), "peer-tls-key-file", i.key().toString(),
                "peer-tls-ca-file", i.ca().toString(), "state-transfer-timeout", "3s");
    }

    @Test
    void aJoinerWithTheClustersCertificateTakesTheTableOverTlsAndAnotherCasGetsNothing() throws Exception {
        TestCertificates certs = TestCertificates.in(dir);
        certs.ca("cluster-ca");
        certs.ca("rogue-ca");
        Agent a = cluster.start("a", settings(certs.issue("cluster-ca", "a", "127.0.0.1")));
        a.replicator().ready().get(15, TimeUnit.SECONDS);
        try (SessionClient c = new SessionClient(a.grpcPort())) {
            for (int i = 0; i < 20; i++) {
                c.put(String.format("tls%016d", i), 0, "k", new byte[] {(byte) i});
            }
        }

        Agent b = cluster.start("b", settings(certs.issue("cluster-ca", "b", "127.0.0.1")));
        b.replicator().ready().get(15, TimeUnit.SECONDS);
        assertThat(b.table().liveCount()).isEqualTo(20);

        // Its state transfer is refused at the handshake: it reports ready after the timeout, empty.
        Agent rogue = cluster.start("rogue", settings(certs.issue("rogue-ca", "rogue", "127.0.0.1")));
        rogue.replicator().ready().get(15, TimeUnit.SECONDS);
        assertThat(rogue.table().liveCount()).isZero();
        Eventually.await(Duration.ofSeconds(5), () -> b.table().liveCount() == 20, () -> "b unchanged");
    }

    @Test
    void anAgentWithPartOfTheFilesDoesNotStart() throws Exception {
        TestCertificates certs = TestCertificates.in(dir);
        certs.ca("cluster-ca");
        TestCertificates.Issued i = certs.issue("cluster-ca", "a", "127.0.0.1");
        assertThatThrownBy(() -> cluster.start("a", Map.of("peer-tls-cert-file", i.cert().toString())))
                .hasMessageContaining("missing: peer-tls-key-file, peer-tls-ca-file");
    }
}
