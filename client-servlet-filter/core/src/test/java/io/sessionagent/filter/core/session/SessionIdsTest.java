package io.sessionagent.filter.core.session;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SessionIdsTest {
    @Test
    void idsCarryAtLeast128RandomBitsInUrlSafeCharacters() {
        SessionIds ids = new SessionIds(new SecureRandom());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String id = ids.newId();
            assertThat(id).matches("[A-Za-z0-9_-]{27}");
            assertThat(Base64.getUrlDecoder().decode(id + "=").length * 8).isGreaterThanOrEqualTo(128);
            assertThat(seen.add(id)).isTrue();
        }
    }

    @Test
    void cookieValueCarriesTheRouteAndTheAgentGetsTheBareId() {
        assertThat(SessionIds.cookieValue("abc", "node1")).isEqualTo("abc.node1");
        assertThat(SessionIds.cookieValue("abc", "")).isEqualTo("abc");
        SessionIds.CookieValue cv = SessionIds.parse("a-B_c.node2");
        assertThat(cv.id()).isEqualTo("a-B_c");
        assertThat(cv.route()).isEqualTo("node2");
        assertThat(SessionIds.parse("abc").route()).isEmpty();
    }

    @Test
    void foreignOrForgedValuesAreRejected() {
        assertThat(SessionIds.parse(null)).isNull();
        assertThat(SessionIds.parse(".node1")).isNull();
        assertThat(SessionIds.parse("a/b.node1")).isNull();
        assertThat(SessionIds.parse("a.b.node1")).isNull();
        assertThat(SessionIds.parse("x".repeat(129))).isNull();
    }
}
