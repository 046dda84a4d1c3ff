package io.sessionagent.filter.jakarta;

import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** One user's browser: a cookie jar that follows the session cookie from node to node. */
final class Browser {
    private final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    /** A GET, whatever it answers. */
    HttpResponse<String> send(URI uri) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A GET that must answer 200. */
    HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = send(uri);
        assertThat(r.statusCode()).as("status of %s: %s", uri, r.body()).isEqualTo(200);
        return r;
    }

    /** The session cookie the response sets, or null when it sets none. */
    static String sessionCookie(HttpResponse<?> r) {
        return r.headers().allValues("Set-Cookie").stream().filter(h -> h.startsWith("SASESSIONID="))
                .findFirst().orElse(null);
    }
}
