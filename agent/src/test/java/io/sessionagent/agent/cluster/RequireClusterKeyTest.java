package io.sessionagent.agent.cluster;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.auth.KeyFileException;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.agent.testing.Networks;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An agent whose packets could leave the host does not start without a cluster key unless told
 * to run open; on loopback it does. The refusal comes before any socket is opened.
 */
class RequireClusterKeyTest {

    private static Agent agent(Map<String, String> overrides) {
        Map<String, String> m = new HashMap<>(Networks.loopbackCluster("require-key-" + System.nanoTime()));
        m.put("node-name", "a");
        m.putAll(overrides);
        return new Agent(AgentConfig.fromMap(m));
    }

    private static void assertRefused(Map<String, String> overrides, String why) {
        Agent a = agent(overrides);
        try {
            assertThatThrownBy(a::start).isInstanceOf(KeyFileException.class)
                    .hasMessageContaining(why)
                    .hasMessageContaining("keygen --id 1")
                    .hasMessageContaining("require-cluster-key=false");
        } finally {
            a.close();
        }
    }

    @Test
    void anInterfaceThatIsNotLoopbackNeedsAKey() {
        // An interface name that does not exist here: nothing can be sent on it, and it is not loopback.
        assertRefused(Map.of("multicast-interface", "sa-nosuch0"),
                "multicast-interface sa-nosuch0 is not a loopback interface");
    }

    @Test
    void aPeerAddressThatIsNotLoopbackNeedsAKey() {
        // Refused before the peer server binds it; 192.0.2.1 is reserved for documentation.
        assertRefused(Map.of("peer-address", "192.0.2.1"), "the peer address 192.0.2.1 is not a loopback address");
    }

    @Test
    void requireTrueNeedsAKeyEvenOnLoopback() {
        assertRefused(Map.of("require-cluster-key", "true"), "require-cluster-key is true");
    }

    @Test
    void onLoopbackTheDefaultStartsWithoutAKey() throws Exception {
        Agent a = agent(Map.of());
        try {
            a.start();
            a.replicator().ready().get(15, TimeUnit.SECONDS);
            assertThat(a.replicator().state().name()).isEqualTo("MEMBER_STATE_READY");
        } finally {
            a.close();
        }
    }

    @Test
    void aValueOtherThanAutoTrueOrFalseIsAConfigurationError() {
        assertThatThrownBy(() -> AgentConfig.fromMap(Map.of("require-cluster-key", "yes")))
                .hasMessageContaining("require-cluster-key").hasMessageContaining("auto, true or false");
    }
}
