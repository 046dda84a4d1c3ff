package io.sessionagent.filter.core;

import io.sessionagent.grammar.Durations;
import io.sessionagent.filter.core.agent.ReplicationMode;
import io.sessionagent.filter.core.codec.ClassAllowList;
import io.sessionagent.filter.core.session.LocalAttributes;
import io.sessionagent.filter.core.session.SaveMode;
import io.sessionagent.filter.core.session.SessionIds;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The filter's init-params, parsed and checked once at init. Every problem is reported
 * together, so that a deployment fails with one message instead of one fix per restart.
 */
public final class FilterSettings {
    public static final String AGENT_ADDRESS = "agent-address";
    public static final String AGENT_TIMEOUT = "agent-timeout";
    public static final String ROUTE = "route";
    public static final String COOKIE_NAME = "cookie-name";
    public static final String COOKIE_PATH = "cookie-path";
    public static final String COOKIE_DOMAIN = "cookie-domain";
    public static final String COOKIE_SECURE = "cookie-secure";
    public static final String COOKIE_HTTP_ONLY = "cookie-http-only";
    public static final String COOKIE_SAME_SITE = "cookie-same-site";
    public static final String REPLICATION_MODE = "replication-mode";
    public static final String SYNC_TIMEOUT = "sync-timeout";
    public static final String MAX_REPLICATION_LAG = "max-replication-lag";
    public static final String ASYNC_WAIT_FOR_AGENT = "async-wait-for-agent";
    public static final String SAVE_MODE = "save-mode";
    public static final String MAX_INACTIVE_INTERVAL = "max-inactive-interval";
    public static final String LISTENERS = "listeners";
    public static final String MAX_ATTRIBUTE_BYTES = "max-attribute-bytes";
    public static final String METER_REGISTRY_ATTRIBUTE = "meter-registry-attribute";
    /** A string, not a class literal: Micrometer may be absent. */
    public static final String DEFAULT_METER_REGISTRY_ATTRIBUTE = "io.micrometer.core.instrument.MeterRegistry";
    public static final String MAX_LOCAL_SESSIONS = "max-local-sessions";
    public static final String LOCAL_ATTRIBUTES = "local-attributes";
    public static final String ALLOWED_CLASSES = ClassAllowList.INIT_PARAM;
    public static final String AGENT_TOKEN_FILE = "agent-token-file";
    /** As the agent requires of its api-token-file: 32 characters of base64 are 192 bits. */
    static final int MIN_TOKEN_CHARS = 32;

    /** Reads one init-param; null when absent. */
    public interface Params {
        String get(String name);
    }

    private String agentHost = "127.0.0.1";
    private int agentPort = 7400;
    private long agentTimeoutMs = 500;
    private String route;
    private String cookieName = "SASESSIONID";
    private String cookiePath;
    private String cookieDomain;
    private boolean cookieSecure;
    private boolean cookieHttpOnly = true;
    private String cookieSameSite = "Lax";
    private ReplicationMode replicationMode = ReplicationMode.ASYNC;
    private long syncTimeoutMs = 1000;
    private long maxReplicationLagMs = 50;
    private boolean asyncWaitForAgent = true;
    private SaveMode saveMode = SaveMode.ON_READ_CHANGE;
    private int maxInactiveIntervalSeconds = 1800;
    private List<String> listenerClasses = Collections.emptyList();
    private int maxAttributeBytes = 1 << 20;
    private String meterRegistryAttribute = DEFAULT_METER_REGISTRY_ATTRIBUTE;
    private int maxLocalSessions = 100_000;
    private LocalAttributes localAttributes = LocalAttributes.NONE;
    private ClassAllowList allowedClasses = ClassAllowList.DEFAULT;
    private String agentToken;

    private FilterSettings() {
    }

    /**
     * @param contextPath the web application's context path ("" for the root), the default cookie path
     */
    public static FilterSettings parse(Params params, String contextPath) {
        FilterSettings s = new FilterSettings();
        List<String> problems = new ArrayList<>();
        String v;
        if ((v = value(params, AGENT_ADDRESS)) != null) {
            int colon = v.lastIndexOf(':');
            try {
                if (colon <= 0) {
                    throw new IllegalArgumentException();
                }
                s.agentHost = v.substring(0, colon);
                s.agentPort = Integer.parseInt(v.substring(colon + 1));
                if (s.agentPort < 1 || s.agentPort > 65535) {
                    throw new IllegalArgumentException();
                }
            } catch (IllegalArgumentException e) {
                problems.add(AGENT_ADDRESS + " '" + v + "': expected host:port");
            }
        }
        s.agentTimeoutMs = millis(params, AGENT_TIMEOUT, s.agentTimeoutMs, 1, problems);
        s.syncTimeoutMs = millis(params, SYNC_TIMEOUT, s.syncTimeoutMs, 1, problems);
        s.maxReplicationLagMs = millis(params, MAX_REPLICATION_LAG, s.maxReplicationLagMs, 1, problems);
        s.route = value(params, ROUTE);
        if (s.route == null) {
            s.route = defaultRoute();
        }
        if (!s.route.isEmpty() && !SessionIds.isValidId(s.route)) {
            problems.add(ROUTE + " '" + s.route + "': only A-Z a-z 0-9 - _ are allowed");
        }
        if ((v = value(params, COOKIE_NAME)) != null) {
            s.cookieName = v;
        }
        if (!isToken(s.cookieName)) {
            problems.add(COOKIE_NAME + " '" + s.cookieName + "': not a valid cookie name");
        }
        v = value(params, COOKIE_PATH);
        s.cookiePath = v != null ? v : (contextPath == null || contextPath.isEmpty() ? "/" : contextPath);
        s.cookieDomain = value(params, COOKIE_DOMAIN);
        s.cookieSecure = bool(params, COOKIE_SECURE, false, problems);
        s.cookieHttpOnly = bool(params, COOKIE_HTTP_ONLY, true, problems);
        s.asyncWaitForAgent = bool(params, ASYNC_WAIT_FOR_AGENT, true, problems);
        if ((v = params.get(COOKIE_SAME_SITE)) != null) {
            String t = v.trim().toLowerCase(Locale.ROOT);
            if (t.equals("lax") || t.equals("strict") || t.equals("none")) {
                s.cookieSameSite = Character.toUpperCase(t.charAt(0)) + t.substring(1);
            } else if (t.isEmpty() || t.equals("unset")) {
                s.cookieSameSite = null;
            } else {
                problems.add(COOKIE_SAME_SITE + " '" + v + "': expected Lax, Strict, None or unset");
            }
        }
        try {
            if ((v = value(params, REPLICATION_MODE)) != null) {
                s.replicationMode = ReplicationMode.parse(v);
            }
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        try {
            if ((v = value(params, SAVE_MODE)) != null) {
                s.saveMode = SaveMode.parse(v);
            }
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        s.maxInactiveIntervalSeconds = (int) integer(params, MAX_INACTIVE_INTERVAL, s.maxInactiveIntervalSeconds,
                Integer.MIN_VALUE, problems);
        s.maxAttributeBytes = (int) integer(params, MAX_ATTRIBUTE_BYTES, s.maxAttributeBytes, 1, problems);
        s.maxLocalSessions = (int) integer(params, MAX_LOCAL_SESSIONS, s.maxLocalSessions, 1, problems);
        if ((v = value(params, LISTENERS)) != null) {
            List<String> names = new ArrayList<>();
            for (String n : v.split("[,\\s]+")) {
                if (!n.isEmpty()) {
                    names.add(n);
                }
            }
            s.listenerClasses = Collections.unmodifiableList(names);
        }
        if ((v = value(params, METER_REGISTRY_ATTRIBUTE)) != null) {
            s.meterRegistryAttribute = v;
        }
        s.localAttributes = LocalAttributes.parse(value(params, LOCAL_ATTRIBUTES));
        try {
            s.allowedClasses = ClassAllowList.parse(value(params, ALLOWED_CLASSES));
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        if ((v = value(params, AGENT_TOKEN_FILE)) != null) {
            s.agentToken = token(v, problems);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("session replication filter: " + String.join("; ", problems));
        }
        return s;
    }

    /** The first line of the token file, without surrounding blanks. */
    private static String token(String file, List<String> problems) {
        List<String> lines;
        try {
            lines = Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            problems.add(AGENT_TOKEN_FILE + " '" + file + "': cannot be read (" + e + ")");
            return null;
        }
        String t = lines.isEmpty() ? "" : lines.get(0).trim();
        if (t.length() < MIN_TOKEN_CHARS) {
            problems.add(AGENT_TOKEN_FILE + " '" + file + "': must hold the agent's API token (at least "
                    + MIN_TOKEN_CHARS + " characters) on its first line");
            return null;
        }
        return t;
    }

    private static String defaultRoute() {
        String r = System.getProperty("jvmRoute");
        if (r != null && !r.trim().isEmpty()) {
            return r.trim();
        }
        try {
            String host = InetAddress.getLocalHost().getHostName();
            int dot = host.indexOf('.');
            String shortName = dot > 0 ? host.substring(0, dot) : host;
            return shortName.replaceAll("[^A-Za-z0-9_-]", "-");
        } catch (Exception e) {
            return "";
        }
    }

    private static String value(Params p, String name) {
        String v = p.get(name);
        if (v == null) {
            return null;
        }
        v = v.trim();
        return v.isEmpty() ? null : v;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 32 || c >= 127 || "()<>@,;:\\\"/[]?={}".indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean bool(Params p, String name, boolean def, List<String> problems) {
        String v = value(p, name);
        if (v == null) {
            return def;
        }
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        problems.add(name + " '" + v + "': expected true or false");
        return def;
    }

    private static long integer(Params p, String name, long def, long min, List<String> problems) {
        String v = value(p, name);
        if (v == null) {
            return def;
        }
        try {
            long x = Long.parseLong(v);
            if (x < min || x > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return x;
        } catch (NumberFormatException e) {
            problems.add(name + " '" + v + "': expected an integer" + (min > 0 ? " >= " + min : ""));
            return def;
        }
    }

    /** A duration in the grammar the agent's settings use too, as milliseconds. */
    private static long millis(Params p, String name, long def, long min, List<String> problems) {
        String v = value(p, name);
        if (v == null) {
            return def;
        }
        try {
            long x = Durations.parse(v).toMillis();
            if (x < min) {
                problems.add(name + " '" + v + "': must be at least " + min + "ms");
                return def;
            }
            return x;
        } catch (IllegalArgumentException e) {
            problems.add(name + " '" + v + "': " + e.getMessage());
            return def;
        }
    }

    public String agentHost() {
        return agentHost;
    }

    public int agentPort() {
        return agentPort;
    }

    public long agentTimeoutMs() {
        return agentTimeoutMs;
    }

    /** Async mode: how old an unconfirmed write may get before requests wait for the agent. */
    public long maxReplicationLagMs() {
        return maxReplicationLagMs;
    }

    /**
     * Async mode: whether a response waits until the local agent holds the request's write, so
     * that it outlives a crash of the app server; else only the lag bound holds responses back.
     */
    public boolean asyncWaitForAgent() {
        return asyncWaitForAgent;
    }

    public String route() {
        return route;
    }

    public String cookieName() {
        return cookieName;
    }

    public String cookiePath() {
        return cookiePath;
    }

    public String cookieDomain() {
        return cookieDomain;
    }

    public boolean cookieSecure() {
        return cookieSecure;
    }

    public boolean cookieHttpOnly() {
        return cookieHttpOnly;
    }

    /** Lax, Strict, None, or null to leave the attribute out. */
    public String cookieSameSite() {
        return cookieSameSite;
    }

    public ReplicationMode replicationMode() {
        return replicationMode;
    }

    public long syncTimeoutMs() {
        return syncTimeoutMs;
    }

    public SaveMode saveMode() {
        return saveMode;
    }

    public int maxInactiveIntervalSeconds() {
        return maxInactiveIntervalSeconds;
    }

    public List<String> listenerClasses() {
        return listenerClasses;
    }

    public int maxAttributeBytes() {
        return maxAttributeBytes;
    }

    /** Name of the ServletContext attribute that may hold the application's Micrometer MeterRegistry. */
    public String meterRegistryAttribute() {
        return meterRegistryAttribute;
    }

    /** Sessions the local cache holds before it evicts the least recently used (they stay at the agent). */
    public int maxLocalSessions() {
        return maxLocalSessions;
    }

    /** Attributes that never leave this node: the {@code local-attributes} patterns and {@link NodeLocal} values. */
    public LocalAttributes localAttributes() {
        return localAttributes;
    }

    /**
     * The classes attribute values may hold: the {@code allowed-classes} patterns, then the JDK's
     * value and collection types and the application's own classes.
     */
    /** The agent's API token, sent with every call; null when the agent takes calls without one. */
    public String agentToken() {
        return agentToken;
    }

    public ClassAllowList allowedClasses() {
        return allowedClasses;
    }

    /** Same settings with another inactivity timeout (from the container's session-config). */
    public FilterSettings withMaxInactiveIntervalSeconds(int seconds) {
        FilterSettings c = copy();
        c.maxInactiveIntervalSeconds = seconds;
        return c;
    }

    private FilterSettings copy() {
        FilterSettings c = new FilterSettings();
        c.agentHost = agentHost;
        c.agentPort = agentPort;
        c.agentTimeoutMs = agentTimeoutMs;
        c.route = route;
        c.cookieName = cookieName;
        c.cookiePath = cookiePath;
        c.cookieDomain = cookieDomain;
        c.cookieSecure = cookieSecure;
        c.cookieHttpOnly = cookieHttpOnly;
        c.cookieSameSite = cookieSameSite;
        c.replicationMode = replicationMode;
        c.syncTimeoutMs = syncTimeoutMs;
        c.maxReplicationLagMs = maxReplicationLagMs;
        c.asyncWaitForAgent = asyncWaitForAgent;
        c.saveMode = saveMode;
        c.maxInactiveIntervalSeconds = maxInactiveIntervalSeconds;
        c.listenerClasses = listenerClasses;
        c.maxAttributeBytes = maxAttributeBytes;
        c.meterRegistryAttribute = meterRegistryAttribute;
        c.maxLocalSessions = maxLocalSessions;
        c.localAttributes = localAttributes;
        c.allowedClasses = allowedClasses;
        c.agentToken = agentToken;
        return c;
    }

    /** The Set-Cookie header value that carries a session's cookie value. */
    public String setCookieHeader(String cookieValue) {
        return cookieHeader(cookieValue, -1);
    }

    /** The Set-Cookie header value that makes the browser drop the cookie. */
    public String expireCookieHeader() {
        return cookieHeader("", 0);
    }

    private String cookieHeader(String value, int maxAge) {
        StringBuilder sb = new StringBuilder();
        sb.append(cookieName).append('=').append(value);
        sb.append("; Path=").append(cookiePath);
        if (cookieDomain != null) {
            sb.append("; Domain=").append(cookieDomain);
        }
        if (maxAge >= 0) {
            sb.append("; Max-Age=").append(maxAge).append("; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
        }
        if (cookieSecure) {
            sb.append("; Secure");
        }
        if (cookieHttpOnly) {
            sb.append("; HttpOnly");
        }
        if (cookieSameSite != null) {
            sb.append("; SameSite=").append(cookieSameSite);
        }
        return sb.toString();
    }
}
