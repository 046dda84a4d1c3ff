package io.sessionagent.bench.http.node;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The benchmark's application: {@code GET /bench/write?u=USER} replaces a 1 KB session attribute
 * whose first 8 bytes are a counter, and answers {@code u=USER c=COUNTER}; {@code GET /bench/read}
 * answers the counter of the session the cookie names without changing or creating it.
 *
 * <p>The whole KB changes on every write, so no replication scheme can send less than the value.
 * The user number is echoed because the load generator cannot tell which connection a response
 * came back on: the body is how it learns whose cookie and counter it carries.
 */
public final class CounterServlet extends HttpServlet {
    static final String ATTRIBUTE = "data";
    static final int VALUE_BYTES = 1024;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        switch (path) {
            case "/write" -> write(req, resp);
            case "/read" -> read(req, resp);
            default -> resp.sendError(404);
        }
    }

    private static void write(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String user = req.getParameter("u");
        HttpSession session = req.getSession(true);
        long counter = counterOf(session.getAttribute(ATTRIBUTE)) + 1;
        session.setAttribute(ATTRIBUTE, value(counter));
        send(resp, "u=" + (user == null ? "-" : user) + " c=" + counter + "\n");
    }

    private static void read(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        HttpSession session = req.getSession(false);
        if (session == null) {
            resp.setStatus(404);
            send(resp, "missing\n");
            return;
        }
        send(resp, "c=" + counterOf(session.getAttribute(ATTRIBUTE)) + "\n");
    }

    static byte[] value(long counter) {
        byte[] b = new byte[VALUE_BYTES];
        ByteBuffer.wrap(b).putLong(counter);
        for (int i = Long.BYTES; i < b.length; i++) {
            b[i] = (byte) (counter + i);
        }
        return b;
    }

    static long counterOf(Object value) {
        return value instanceof byte[] b && b.length >= Long.BYTES ? ByteBuffer.wrap(b).getLong() : 0;
    }

    private static void send(HttpServletResponse resp, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        resp.setContentType("text/plain");
        // No Content-Length: writing the declared length closes the response at once (Servlet 5.7),
        // and Tomcat's ReplicationValve would then replicate after the client has the answer, even
        // with channelSendOptions 6. Left unset, Tomcat sends the response after its valves, and
        // both DeltaManager and the filter replicate before the client sees the counter.
        resp.getOutputStream().write(bytes);
    }
}
