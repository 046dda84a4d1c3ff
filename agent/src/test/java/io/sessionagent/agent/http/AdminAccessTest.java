package io.sessionagent.agent.http;

import io.sessionagent.agent.http.OperatorHttpServer.Request;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class AdminAccessTest {
    private static Request post(String authorization) {
        return new Request("POST", "/admin/drain", Map.of(), authorization);
    }

    @Test
    void withoutATokenChangesAreAllowedOnlyOnLoopback() throws IOException {
        assertThat(AdminAccess.of(Optional.empty(), "127.0.0.1").refusal(post(""))).isNull();
        assertThat(AdminAccess.of(Optional.empty(), "::1").refusal(post(""))).isNull();
        for (String exposed : new String[] {"0.0.0.0", "::", "10.1.2.3"}) {
            var refused = AdminAccess.of(Optional.empty(), exposed).refusal(post(""));
            assertThat(refused).as(exposed).isNotNull();
            assertThat(refused.status()).isEqualTo(403);
            assertThat(refused.body()).contains("admin-token-file");
        }
    }
}
