package io.sessionagent.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamesTest {

    @Test
    void suggestsTheNameATypoMeant() {
        assertThat(Names.closest("heartbeat-intervall", Settings.names())).containsExactly("heartbeat-interval");
        assertThat(Names.closest("multicast-prot", Settings.names())).containsExactly("multicast-port");
        assertThat(Names.closest("clustername", Settings.names())).containsExactly("cluster-name");
    }

    @Test
    void normalisesCaseUnderscoresAndCamelCase() {
        assertThat(Names.closest("heartbeat_interval", Settings.names())).containsExactly("heartbeat-interval");
        assertThat(Names.closest("heartbeatInterval", Settings.names())).containsExactly("heartbeat-interval");
        assertThat(Names.closest("SESSION_AGENT_GRPC_PORTT", Settings.names())).containsExactly("grpc-port");
    }

    @Test
    void offersEveryNameContainingAFragment() {
        assertThat(Names.closest("heartbeat", Settings.names())).containsExactly("heartbeat-interval");
        assertThat(Names.closest("-port", Settings.names())).isNotEmpty();
        assertThat(Names.closest("timeout", Settings.names()))
                .contains("failure-timeout", "state-transfer-timeout", "sync-timeout");
    }

    @Test
    void suggestsNothingForUnrelatedWords() {
        assertThat(Names.closest("banana-split-sundae", Settings.names())).isEmpty();
        assertThat(Names.hint("xyz", Settings.names(), "--", false)).isEmpty();
    }

    @Test
    void hintsInTheFormOfTheLayer() {
        assertThat(Names.hint("grpc-prt", Settings.names(), "--", false)).isEqualTo(" (did you mean --grpc-port?)");
        assertThat(Names.hint("SESSION_AGENT_GRPC_PRT", Settings.names(), "", true))
                .isEqualTo(" (did you mean SESSION_AGENT_GRPC_PORT?)");
    }
}
