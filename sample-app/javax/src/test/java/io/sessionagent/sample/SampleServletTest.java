package io.sessionagent.sample;

import io.sessionagent.filter.core.metrics.FilterCounters;
import org.junit.jupiter.api.Test;

import javax.servlet.ServletConfig;
import javax.servlet.ServletContext;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The servlet on its own, with the few container objects it touches faked: {@code pad} on the
 * counter, the login and {@code /whoami}, and {@code /replication-status} with and without the
 * filter's counters.
 */
class SampleServletTest {

    /** One servlet, one context, one session: what a browser with a cookie sees on one node. */
    private static final class Node {
        final Map<String, Object> contextAttributes = new HashMap<>();
        final Map<String, Object> sessionAttributes = new HashMap<>();
        boolean sessionCreated;
        final SampleServlet servlet = new SampleServlet();

        Node() throws Exception {
            ServletContext context = fake(ServletContext.class, (name, args) -> {
                switch (name) {
                    case "getAttribute":
                        return contextAttributes.get((String) args[0]);
                    case "getContextPath":
                        return "";
                    default:
                        return null;
                }
            });
            servlet.init(fake(ServletConfig.class, (name, args) -> {
                switch (name) {
                    case "getServletContext":
                        return context;
                    case "getServletName":
                        return "sample";
                    case "getInitParameterNames":
                        return Collections.emptyEnumeration();
                    default:
                        return null;
                }
            }));
        }

        Response get(String path, String pad) throws Exception {
            return request("GET", path, params("pad", pad));
        }

        Response request(String method, String path, Map<String, String> params) throws Exception {
            HttpSession session = fake(HttpSession.class, (name, args) -> {
                switch (name) {
                    case "getId":
                        return "S1";
                    case "getAttribute":
                        return sessionAttributes.get((String) args[0]);
                    case "setAttribute":
                        sessionAttributes.put((String) args[0], args[1]);
                        return null;
                    default:
                        return null;
                }
            });
            HttpServletRequest req = fake(HttpServletRequest.class, (name, args) -> {
                switch (name) {
                    case "getMethod":
                        return method;
                    case "getServletPath":
                        return path;
                    case "getPathInfo":
                        return null;
                    case "getParameter":
                        return params.get((String) args[0]);
                    case "getSession":
                        if (args == null || (Boolean) args[0] || sessionCreated) {
                            sessionCreated = true;
                            return session;
                        }
                        return null;
                    case "getProtocol":
                        return "HTTP/1.1";
                    default:
                        return null;
                }
            });
            Response r = new Response();
            HttpServletResponse resp = fake(HttpServletResponse.class, (name, args) -> {
                switch (name) {
                    case "sendError":
                        r.status = (Integer) args[0];
                        return null;
                    case "setStatus":
                        r.status = (Integer) args[0];
                        return null;
                    case "setContentType":
                        r.contentType = (String) args[0];
                        return null;
                    case "getWriter":
                        return r.writer;
                    default:
                        return null;
                }
            });
            servlet.service(req, resp);
            r.writer.flush();
            return r;
        }
    }

    private static final class Response {
        int status = 200;
        String contentType;
        final StringWriter body = new StringWriter();
        final PrintWriter writer = new PrintWriter(body);
    }

    private interface Answer {
        Object answer(String method, Object[] args);
    }

    private static <T> T fake(Class<T> type, Answer answer) {
        return type.cast(Proxy.newProxyInstance(SampleServletTest.class.getClassLoader(), new Class<?>[] {type},
                (proxy, method, args) -> {
                    if (method.getName().equals("hashCode")) {
                        return System.identityHashCode(proxy);
                    }
                    if (method.getName().equals("equals")) {
                        return proxy == args[0];
                    }
                    if (method.getName().equals("toString")) {
                        return type.getSimpleName();
                    }
                    Object r = answer.answer(method.getName(), args);
                    if (r == null && method.getReturnType() == boolean.class) {
                        return false;
                    }
                    if (r == null && method.getReturnType() == int.class) {
                        return 0;
                    }
                    if (r == null && method.getReturnType() == long.class) {
                        return 0L;
                    }
                    return r;
                }));
    }

    @Test
    void padStoresThatManyFreshRandomBytesBesideTheCounter() throws Exception {
        Node node = new Node();
        Response first = node.get("/counter", "1024");
        assertThat(first.status).isEqualTo(200);
        assertThat(first.body.toString()).isEqualTo("{\"session\":\"S1\",\"node\":\"" + route() + "\",\"count\":1}");
        byte[] pad1 = (byte[]) node.sessionAttributes.get("pad");
        assertThat(pad1).hasSize(1024);

        Response second = node.get("/counter", "1024");
        assertThat(second.body.toString()).endsWith("\"count\":2}");
        byte[] pad2 = (byte[]) node.sessionAttributes.get("pad");
        assertThat(pad2).hasSize(1024).isNotSameAs(pad1).isNotEqualTo(pad1);

        assertThat(node.get("/counter", "0").status).isEqualTo(200);
        assertThat((byte[]) node.sessionAttributes.get("pad")).isEmpty();
        assertThat(node.get("/counter", "65536").status).isEqualTo(200);
        assertThat((byte[]) node.sessionAttributes.get("pad")).hasSize(65536);
    }

    @Test
    void everyCartAddIsCountedInANonSerializableValueChangedInPlace() throws Exception {
        Node node = new Node();
        assertThat(node.get("/cart", null).body.toString()).endsWith("\"items\":[]}");
        Response first = node.request("POST", "/cart/add", params("item", "book"));
        assertThat(first.body.toString()).endsWith("\"items\":[\"book\"],\"added\":1}");
        Object adds = node.sessionAttributes.get(SampleServlet.CART_ADDS);
        assertThat(adds).isInstanceOf(SampleServlet.CartAdds.class).isNotInstanceOf(java.io.Serializable.class);

        node.request("POST", "/cart/add", params("item", "pen"));
        assertThat(node.sessionAttributes.get(SampleServlet.CART_ADDS)).isSameAs(adds);
        assertThat(node.get("/cart", null).body.toString()).endsWith("\"items\":[\"book\",\"pen\"],\"added\":2}");
    }

    @Test
    void withoutPadTheCounterLeavesThePadAlone() throws Exception {
        Node node = new Node();
        node.get("/counter", "16");
        byte[] pad = (byte[]) node.sessionAttributes.get("pad");
        Response r = node.get("/counter", null);
        assertThat(r.status).isEqualTo(200);
        assertThat(r.body.toString()).endsWith("\"count\":2}");
        assertThat(node.sessionAttributes.get("pad")).isSameAs(pad);

        Node fresh = new Node();
        fresh.get("/counter", null);
        assertThat(fresh.sessionAttributes).containsOnlyKeys("count");
    }

    @Test
    void aPadOutsideZeroTo65536IsABadRequestAndTouchesNoSession() throws Exception {
        for (String bad : new String[] {"-1", "65537", "100000", "1000000", "", "abc", "1k", "+5", "1.5", " 1"}) {
            Node node = new Node();
            Response r = node.get("/counter", bad);
            assertThat(r.status).as("pad=" + bad).isEqualTo(400);
            assertThat(node.sessionCreated).as("pad=" + bad).isFalse();
            assertThat(node.sessionAttributes).as("pad=" + bad).isEmpty();
        }
        assertThat(SampleServlet.pad(null)).isEqualTo(-1);
        assertThat(SampleServlet.pad("0")).isZero();
        assertThat(SampleServlet.pad("065536")).isEqualTo(65536);
        assertThat(SampleServlet.pad("65537")).isEqualTo(-2);
    }

    @Test
    void loginStoresTheUserAndWhoamiOnlyReadsIt() throws Exception {
        Node node = new Node();
        Response nobody = node.request("GET", "/whoami", params());
        assertThat(nobody.status).isEqualTo(200);
        assertThat(nobody.body.toString()).isEqualTo("{\"session\":null,\"node\":\"" + route() + "\",\"user\":null}");
        assertThat(node.sessionCreated).isFalse();

        Response login = node.request("GET", "/login", params("user", "alice"));
        assertThat(login.status).isEqualTo(200);
        assertThat(login.body.toString()).isEqualTo("{\"session\":\"S1\",\"node\":\"" + route() + "\",\"user\":\"alice\"}");
        assertThat(node.sessionAttributes).containsOnlyKeys("user").containsEntry("user", "alice");

        Response whoami = node.request("GET", "/whoami", params());
        assertThat(whoami.body.toString()).endsWith("\"user\":\"alice\"}");
        assertThat(node.request("POST", "/login", params("user", "bob")).status).isEqualTo(200);
        assertThat(node.request("GET", "/whoami", params()).body.toString()).endsWith("\"user\":\"bob\"}");
        assertThat(node.request("POST", "/whoami", params()).status).isEqualTo(405);
    }

    @Test
    void aLoginWithoutAUserOrWithALongOneIsABadRequestAndTouchesNoSession() throws Exception {
        StringBuilder tooLong = new StringBuilder();
        while (tooLong.length() < 101) {
            tooLong.append('x');
        }
        for (String bad : new String[] {null, "", tooLong.toString()}) {
            Node node = new Node();
            assertThat(node.request("GET", "/login", params("user", bad)).status).as("user=" + bad).isEqualTo(400);
            assertThat(node.sessionCreated).as("user=" + bad).isFalse();
        }
    }

    @Test
    void replicationStatusPrintsEveryCounterOfTheSnapshotAsANumber() throws Exception {
        Node node = new Node();
        FilterCounters counters = new FilterCounters();
        node.contextAttributes.put(SampleServlet.COUNTERS_ATTRIBUTE, counters);
        Response r = node.get("/replication-status", null);
        assertThat(r.status).isEqualTo(200);
        assertThat(r.contentType).isEqualTo("application/json");
        String body = r.body.toString();
        assertThat(body).startsWith("{").endsWith("}");
        Map<String, Long> printed = new HashMap<>();
        Matcher m = Pattern.compile("\"([^\"]+)\":(-?\\d+)").matcher(body);
        StringBuilder rest = new StringBuilder(body.substring(1, body.length() - 1));
        while (m.find()) {
            printed.put(m.group(1), Long.parseLong(m.group(2)));
        }
        assertThat(printed).isEqualTo(counters.snapshot());
        assertThat(rest.toString().replaceAll("\"[^\"]+\":-?\\d+", "").replace(",", "")).isEmpty();
        assertThat(node.sessionCreated).isFalse();
    }

    @Test
    void replicationStatusWithoutTheFilterIsUnavailable() throws Exception {
        Node node = new Node();
        assertThat(node.get("/replication-status", null).status).isEqualTo(503);
        node.contextAttributes.put(SampleServlet.COUNTERS_ATTRIBUTE, "not counters");
        assertThat(node.get("/replication-status", null).status).isEqualTo(503);
    }

    /** Request parameters by name and value, alternating. */
    private static Map<String, String> params(String... nameValue) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1]);
        }
        return m;
    }

    private static String route() {
        String route = System.getProperty("jvmRoute");
        return route == null ? "" : route;
    }
}
