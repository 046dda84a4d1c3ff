package io.sessionagent.sample;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;

import io.sessionagent.filter.core.metrics.FilterCounters;

/**
 * The sample app: a counter, a shopping cart and a login kept in the HttpSession, nothing else. It knows
 * nothing of replication; the filter declared in web.xml does that.
 *
 * <pre>
 * GET  /counter          increment the session's counter: {"session":"ID","node":"ROUTE","count":N}
 * GET  /counter?pad=N    the same, and N fresh random bytes (0 to 65536) in the attribute "pad":
 *                        every such request changes N bytes of the session (a load test's write size)
 * GET  /counter/peek     the same without changing anything (count 0 without a session)
 * POST /cart/add?item=X  add X to the cart (a List mutated in place) and count it in the attribute
 *                        "cartAdds", a {@link CartAdds} that is not Serializable, also changed in place:
 *                        {"session":..,"node":..,"items":[..],"added":N}; N equals the number of items
 *                        as long as the non-serializable value is replicated with the list
 * GET  /cart             the cart
 * GET  /login?user=NAME  log in: store NAME (1 to 100 characters) in the attribute "user":
 *                        {"session":..,"node":..,"user":NAME}; POST the same. A GET, like the
 *                        counter's, so that NGINX passes it on when its node dies while serving it
 * GET  /whoami           who is logged in, only read, never written: {"session":..,"node":..,"user":NAME}
 *                        ("user":null without a session or a login)
 * POST /logout           invalidate the session
 * GET  /replication-status  the filter's counters as one flat JSON object of numbers
 *                        (503 without the filter's servlet context attribute)
 * </pre>
 *
 * <p>sample-app/jakarta builds its WAR from this source with javax.servlet read as jakarta.servlet.
 */
public class SampleServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** Largest {@code pad} of {@code GET /counter?pad=N}, in bytes. */
    static final int MAX_PAD = 65536;
    /** The session attribute {@code /login} sets and {@code /whoami} reads. */
    static final String USER = "user";
    /** The session attribute holding the {@link CartAdds}. */
    static final String CART_ADDS = "cartAdds";
    /** The servlet context attribute where the filter leaves its counters. */
    static final String COUNTERS_ATTRIBUTE = "io.sessionagent.filter.counters";

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = path(req);
        if (path.equals("/counter")) {
            int pad = pad(req.getParameter("pad"));
            if (pad < -1) {
                resp.sendError(400, "pad: a number of bytes from 0 to " + MAX_PAD);
                return;
            }
            HttpSession s = req.getSession();
            Integer count = (Integer) s.getAttribute("count");
            int next = count == null ? 1 : count + 1;
            s.setAttribute("count", next);
            if (pad >= 0) {
                byte[] bytes = new byte[pad];
                ThreadLocalRandom.current().nextBytes(bytes);
                s.setAttribute("pad", bytes);
            }
            counter(resp, s.getId(), next);
        } else if (path.equals("/counter/peek")) {
            HttpSession s = req.getSession(false);
            Integer count = s == null ? null : (Integer) s.getAttribute("count");
            counter(resp, s == null ? null : s.getId(), count == null ? 0 : count);
        } else if (path.equals("/cart")) {
            HttpSession s = req.getSession(false);
            cart(resp, s == null ? null : s.getId(), s == null ? null : cartOf(s, false),
                    s == null ? null : (CartAdds) s.getAttribute(CART_ADDS));
        } else if (path.equals("/login")) {
            login(req, resp);
        } else if (path.equals("/whoami")) {
            HttpSession s = req.getSession(false);
            user(resp, s == null ? null : s.getId(), s == null ? null : (String) s.getAttribute(USER));
        } else if (path.equals("/replication-status")) {
            replicationStatus(resp, getServletContext().getAttribute(COUNTERS_ATTRIBUTE));
        } else {
            resp.sendError(path.equals("/cart/add") || path.equals("/logout") ? 405 : 404);
        }
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = path(req);
        if (path.equals("/cart/add")) {
            String item = req.getParameter("item");
            if (item == null || item.isEmpty() || item.length() > 100) {
                resp.sendError(400, "item: 1 to 100 characters");
                return;
            }
            HttpSession s = req.getSession();
            List<String> cart = cartOf(s, true);
            cart.add(item); // in place: the filter replicates attributes whose serialized form changed
            CartAdds adds = (CartAdds) s.getAttribute(CART_ADDS);
            if (adds == null) {
                adds = new CartAdds();
                s.setAttribute(CART_ADDS, adds);
            }
            adds.count++; // in place too, and the class is not Serializable: Kryo writes it
            cart(resp, s.getId(), cart, adds);
        } else if (path.equals("/login")) {
            login(req, resp);
        } else if (path.equals("/logout")) {
            HttpSession s = req.getSession(false);
            String id = s == null ? null : s.getId();
            if (s != null) {
                s.invalidate();
            }
            json(resp, "{\"session\":" + quote(id) + ",\"node\":" + quote(node()) + ",\"loggedOut\":" + (s != null)
                    + "}");
        } else {
            resp.sendError(path.equals("/counter") || path.equals("/cart") || path.equals("/whoami")
                    || path.equals("/replication-status") ? 405 : 404);
        }
    }

    private static void login(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String user = req.getParameter("user");
        if (user == null || user.isEmpty() || user.length() > 100) {
            resp.sendError(400, "user: 1 to 100 characters");
            return;
        }
        HttpSession s = req.getSession();
        s.setAttribute(USER, user);
        user(resp, s.getId(), user);
    }

    /** The pad parameter: -1 when absent, -2 when it is not a number from 0 to MAX_PAD. */
    static int pad(String param) {
        if (param == null) {
            return -1;
        }
        if (param.isEmpty() || param.length() > 6) {
            return -2;
        }
        int n = 0;
        for (int i = 0; i < param.length(); i++) {
            char c = param.charAt(i);
            if (c < '0' || c > '9') {
                return -2;
            }
            n = n * 10 + (c - '0');
        }
        return n <= MAX_PAD ? n : -2;
    }

    /** Whatever the counters' snapshot holds, so that counters added later show up unasked. */
    private static void replicationStatus(HttpServletResponse resp, Object counters) throws IOException {
        if (!(counters instanceof FilterCounters)) {
            resp.sendError(503, "no session replication filter counters in the servlet context attribute "
                    + COUNTERS_ATTRIBUTE);
            return;
        }
        StringBuilder b = new StringBuilder("{");
        for (Map.Entry<String, Long> e : ((FilterCounters) counters).snapshot().entrySet()) {
            if (e.getKey() != null && e.getValue() != null) {
                b.append(b.length() == 1 ? "" : ",").append(quote(e.getKey())).append(':')
                        .append(e.getValue().longValue());
            }
        }
        json(resp, b.append('}').toString());
    }

    @SuppressWarnings("unchecked")
    private static List<String> cartOf(HttpSession s, boolean create) {
        List<String> cart = (List<String>) s.getAttribute("cart");
        if (cart == null && create) {
            cart = new ArrayList<>();
            s.setAttribute("cart", cart);
        }
        return cart;
    }

    private static String path(HttpServletRequest req) {
        String info = req.getPathInfo();
        return req.getServletPath() + (info == null ? "" : info);
    }

    /** The node's route, as the filter takes it: the system property jvmRoute. */
    private static String node() {
        String route = System.getProperty("jvmRoute");
        return route == null ? "" : route;
    }

    private static void counter(HttpServletResponse resp, String id, int count) throws IOException {
        json(resp, "{\"session\":" + quote(id) + ",\"node\":" + quote(node()) + ",\"count\":" + count + "}");
    }

    private static void user(HttpServletResponse resp, String id, String user) throws IOException {
        json(resp, "{\"session\":" + quote(id) + ",\"node\":" + quote(node()) + ",\"user\":" + quote(user) + "}");
    }

    /**
     * How many items were added to the cart: a session value that is deliberately not Serializable,
     * so that a failover shows whether such values travel with the rest (servers/Users.java checks
     * that it still equals the number of items).
     */
    public static final class CartAdds {
        int count;
    }

    private static void cart(HttpServletResponse resp, String id, List<String> items, CartAdds adds)
            throws IOException {
        StringBuilder b = new StringBuilder("{\"session\":").append(quote(id)).append(",\"node\":")
                .append(quote(node())).append(",\"items\":[");
        if (items != null) {
            for (int i = 0; i < items.size(); i++) {
                b.append(i == 0 ? "" : ",").append(quote(items.get(i)));
            }
        }
        b.append(']');
        if (adds != null) {
            b.append(",\"added\":").append(adds.count);
        }
        json(resp, b.append('}').toString());
    }

    private static void json(HttpServletResponse resp, String body) throws IOException {
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getWriter().print(body);
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
