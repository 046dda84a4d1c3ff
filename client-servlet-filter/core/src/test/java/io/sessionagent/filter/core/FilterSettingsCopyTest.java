package io.sessionagent.filter.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The container's session-config timeout gives the filter a copy of its settings: every other
 * setting must survive the copy. A field left out of it (the agent's API token once was) would
 * make every call to an agent that requires the token fail, but only in applications whose
 * web.xml sets a session timeout.
 */
class FilterSettingsCopyTest {
    @TempDir
    Path dir;

    @Test
    void aCopyWithTheContainersTimeoutKeepsEverySettingButThatOne() throws Exception {
        Path token = dir.resolve("token");
        Files.write(token, "0123456789abcdefghijklmnopqrstuvwxyzABCD".getBytes(StandardCharsets.US_ASCII));
        Map<String, String> params = new HashMap<>();
        params.put(FilterSettings.AGENT_ADDRESS, "127.0.0.1:7411");
        params.put(FilterSettings.AGENT_TIMEOUT, "2s");
        params.put(FilterSettings.ROUTE, "n7");
        params.put(FilterSettings.COOKIE_NAME, "JSID");
        params.put(FilterSettings.COOKIE_DOMAIN, "example.org");
        params.put(FilterSettings.COOKIE_SECURE, "true");
        params.put(FilterSettings.COOKIE_HTTP_ONLY, "false");
        params.put(FilterSettings.COOKIE_SAME_SITE, "Strict");
        params.put(FilterSettings.REPLICATION_MODE, "sync");
        params.put(FilterSettings.SYNC_TIMEOUT, "3s");
        params.put(FilterSettings.MAX_REPLICATION_LAG, "70ms");
        params.put(FilterSettings.MAX_ATTRIBUTE_BYTES, "4096");
        params.put(FilterSettings.MAX_LOCAL_SESSIONS, "77");
        params.put(FilterSettings.LOCAL_ATTRIBUTES, "cache");
        params.put(FilterSettings.AGENT_TOKEN_FILE, token.toString());
        FilterSettings parsed = FilterSettings.parse(params::get, "/shop");
        FilterSettings copy = parsed.withMaxInactiveIntervalSeconds(600);

        assertThat(copy.maxInactiveIntervalSeconds()).isEqualTo(600);
        assertThat(copy.agentToken()).isNotNull();
        int compared = 0;
        for (Field f : FilterSettings.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getName().equals("maxInactiveIntervalSeconds")) {
                continue;
            }
            f.setAccessible(true);
            assertThat(f.get(copy)).as(f.getName()).isEqualTo(f.get(parsed));
            compared++;
        }
        assertThat(compared).isGreaterThan(15);
    }
}
