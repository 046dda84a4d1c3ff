package io.sessionagent.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {

    @Test
    void hostPortAcceptsIpv6Brackets() {
        assertThat(HostPort.parse("[::1]:7400")).isEqualTo(new HostPort("::1", 7400));
        assertThat(HostPort.parse("[::1]:7400").toString()).isEqualTo("[::1]:7400");
        assertThat(HostPort.parse("agent.local:1")).isEqualTo(new HostPort("agent.local", 1));
    }

    @Test
    void aPortOutOfRangeOrAMissingPortIsRefused() {
        assertThatThrownBy(() -> HostPort.parse("127.0.0.1:0")).hasMessageContaining("between 1 and 65535");
        assertThatThrownBy(() -> HostPort.parse("nohost")).hasMessageContaining("must be HOST:PORT");
    }
}
