package io.sessionagent.filter.core.metrics;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.NotCompliantMBeanException;
import javax.management.ObjectName;
import javax.management.StandardMBean;

/**
 * Publishes one filter instance's {@link FilterCounters} over JMX and, when the web application
 * has Micrometer, to a Micrometer registry. Everything is read when a scrape or a JMX client
 * asks, so requests pay nothing beyond the counters themselves. {@link #close} takes it all back,
 * so that a redeployed application neither leaks its class loader through the MBean server or a
 * registry nor collides with its next incarnation.
 */
public final class FilterMetrics implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(FilterMetrics.class.getName());
    public static final String JMX_DOMAIN = "io.sessionagent.filter";
    /** A string, never a class literal: resolving it must stay optional. */
    static final String METER_REGISTRY_CLASS = "io.micrometer.core.instrument.MeterRegistry";

    static final String SERIALIZE_METER = "session_filter.serialize";
    static final String SERIALIZE_DESCRIPTION = "Time spent serializing attribute values; count: values serialized";

    /** One reading of the filter's state: its meter, its JMX attribute and where it comes from. */
    static final class Reading {
        final String meter;
        final String attribute;
        final String baseUnit;
        final String description;
        final ToLongFunction<FilterState> read;

        Reading(String meter, String attribute, String baseUnit, String description, ToLongFunction<FilterState> read) {
            this.meter = meter;
            this.attribute = attribute;
            this.baseUnit = baseUnit;
            this.description = description;
            this.read = read;
        }
    }

    /** The gauges; the JMX attributes carry the same descriptions. */
    static final List<Reading> READINGS = Collections.unmodifiableList(Arrays.asList(
            new Reading("session_filter.sessions.local", "LocalSessions", "sessions",
                    "Sessions in this node's local cache", FilterState::localSessionCount),
            new Reading("session_filter.agent.down", "AgentDown", "boolean",
                    "1 while the agent is gone (connection refused or broken) and sessions are served locally"
                            + " only; 0 while it answers, however slowly", s -> s.agentDown() ? 1 : 0),
            new Reading("session_filter.writes.pending", "PendingWrites", "writes",
                    "Writes handed to the agent and not answered yet (at most one waiting to leave per session)",
                    FilterState::pendingWrites),
            new Reading("session_filter.replication.lag", "ReplicationLagMillis", "milliseconds",
                    "How long the oldest write the agent has not confirmed has waited; async requests wait while it"
                            + " is above max-replication-lag", FilterState::replicationLagMs)));

    /** One monotonic count: its meter, its JMX attribute and where it comes from. */
    static final class Count {
        final String meter;
        final String attribute;
        final String baseUnit;
        final String description;
        final ToLongFunction<FilterCounters> read;

        Count(String meter, String attribute, String baseUnit, String description, ToLongFunction<FilterCounters> read) {
            this.meter = meter;
            this.attribute = attribute;
            this.baseUnit = baseUnit;
            this.description = description;
            this.read = read;
        }
    }

    /** The counts published as Micrometer function counters; the JMX attributes carry the same descriptions. */
    static final List<Count> COUNTS = Collections.unmodifiableList(Arrays.asList(
            new Count("session_filter.deltas.sent", "DeltasSent", "deltas",
                    "Deltas the agent accepted", FilterCounters::deltasSent),
            new Count("session_filter.delta.bytes", "DeltaBytes", "bytes",
                    "Serialized attribute bytes in the deltas the agent accepted", FilterCounters::deltaBytes),
            new Count("session_filter.attributes.skipped", "SkippedAttributes", "attributes",
                    "Attribute values not replicated: not serializable, larger than max-attribute-bytes, or holding a"
                            + " class the allowed-classes init-param does not allow",
                    FilterCounters::skippedAttributes),
            new Count("session_filter.attributes.deserialize_failures", "DeserializeFailures", "attributes",
                    "Replicated attribute values that could not be deserialized on this node",
                    FilterCounters::deserializeFailures),
            new Count("session_filter.attributes.refused", "RefusedAttributes", "attributes",
                    "Attribute values holding a class the allowed-classes init-param does not allow: not sent, or"
                            + " from the agent and left out", FilterCounters::refusedAttributes),
            new Count("session_filter.agent.errors", "AgentErrors", "calls",
                    "Agent calls that failed: agent down, deadline passed, or refused", FilterCounters::agentErrors),
            new Count("session_filter.agent.calls_skipped", "AgentCallsSkipped", "calls",
                    "Agent calls not attempted because the agent failed recently (backoff)",
                    FilterCounters::agentCallsSkipped),
            new Count("session_filter.failover.restores", "FailoverRestores", "sessions",
                    "Sessions this node did not hold, restored from the agent", FilterCounters::failoverRestores),
            new Count("session_filter.failover.misses", "FailoverMisses", "sessions",
                    "Unknown session ids the agent did not hold either", FilterCounters::failoverMisses),
            new Count("session_filter.failover.unavailable", "FailoverUnavailable", "requests",
                    "Requests answered 503 because the agent could not be asked about a session this node does not hold",
                    FilterCounters::failoverUnavailable),
            new Count("session_filter.cache.evictions", "CacheEvictions", "sessions",
                    "Sessions moved out of the local cache past max-local-sessions (they stay at the agent)",
                    FilterCounters::cacheEvictions),
            new Count("session_filter.cache.misses", "CacheMisses", "sessions",
                    "Evicted sessions fetched back from the agent by their next request",
                    FilterCounters::cacheMisses),
            new Count("session_filter.touches.sent", "TouchesSent", "touches",
                    "Pure accesses sent to the agent", FilterCounters::touchesSent),
            new Count("session_filter.sessions.created", "SessionsCreated", "sessions",
                    "Sessions created on this node", FilterCounters::sessionsCreated),
            new Count("session_filter.sessions.expired", "SessionsExpired", "sessions",
                    "Sessions dropped from the local cache by inactivity", FilterCounters::sessionsExpired),
            new Count("session_filter.writes.conflicts", "WriteConflicts", "writes",
                    "Writes the agent refused because its version differed (the session was resent whole)",
                    FilterCounters::writeConflicts),
            new Count("session_filter.writes.coalesced", "WritesCoalesced", "writes",
                    "Changes merged into their session's write that had not left for the agent yet",
                    FilterCounters::writesCoalesced),
            new Count("session_filter.writes.not_replicated", "WritesNotReplicated", "writes",
                    "Changes the agent never took: made while it was unreachable, or on their way when the write"
                            + " stream broke (their sessions go whole to it once it answers again)",
                    FilterCounters::writesNotReplicated),
            new Count("session_filter.writes.unconfirmed", "WritesUnconfirmed", "writes",
                    "Changes the agent applied but no replica acknowledged within sync-timeout",
                    FilterCounters::writesUnconfirmed),
            new Count("session_filter.agent.stream_failures", "StreamFailures", "streams",
                    "Write streams to the agent that ended with an error (the agent was gone)",
                    FilterCounters::streamFailures),
            new Count("session_filter.backpressure.waits", "BackpressureWaits", "requests",
                    "Async requests that waited because replication was behind max-replication-lag",
                    FilterCounters::backpressureWaits),
            new Count("session_filter.backpressure.timeouts", "BackpressureTimeouts", "requests",
                    "Requests whose wait for the agent reached agent-timeout; they went on and the write stayed"
                            + " in flight", FilterCounters::backpressureTimeouts)));

    /** A count per class name: a meter per class (tag {@code class}) and one JMX attribute holding them all. */
    static final class ByClass {
        final String meter;
        final String attribute;
        final String baseUnit;
        final String description;
        final java.util.function.Function<FilterCounters, ClassCounts> counts;

        ByClass(String meter, String attribute, String baseUnit, String description,
                java.util.function.Function<FilterCounters, ClassCounts> counts) {
            this.meter = meter;
            this.attribute = attribute;
            this.baseUnit = baseUnit;
            this.description = description;
            this.counts = counts;
        }
    }

    /**
     * Per-class counts; a class's meter appears with its first count. At most
     * {@value ClassCounts#MAX_NAMES} classes each, then {@code (other)}.
     */
    static final List<ByClass> BY_CLASS = Collections.unmodifiableList(Arrays.asList(
            new ByClass("session_filter.attributes.deserialize_failures.by_class", "DeserializeFailuresByClass",
                    "attributes", "Replicated attribute values that could not be deserialized on this node, by the class"
                    + " of the value", c -> c.deserializeFailuresByClass),
            new ByClass("session_filter.attributes.refused.by_class", "RefusedAttributesByClass", "attributes",
                    "Attribute values refused by the allowed-classes init-param, by the class refused",
                    c -> c.refusedByClass)));

    private final MBeanServer server;
    private final Bean bean;
    private final AutoCloseable meters;

    private FilterMetrics(MBeanServer server, Bean bean, AutoCloseable meters) {
        this.server = server;
        this.bean = bean;
        this.meters = meters;
    }

    /**
     * Registers the MBean and, if Micrometer is there, the meters. Never throws: metrics must not
     * keep the application from starting.
     *
     * @param contextPath   the web application's context path, "" for the root
     * @param appLoader     the web application's class loader, where its Micrometer would be
     * @param registry      the value of the ServletContext attribute named by meter-registry-attribute, or null
     * @param registryName  that attribute's name, for the log
     */
    public static FilterMetrics start(FilterCounters counters, FilterState state, String contextPath,
                                      String filterName, ClassLoader appLoader, Object registry, String registryName) {
        String context = contextLabel(contextPath);
        String filter = filterName == null ? "" : filterName;
        MBeanServer server = null;
        Bean bean = null;
        try {
            server = ManagementFactory.getPlatformMBeanServer();
            bean = new Bean(counters, state, objectName(contextPath, filter));
            bean.register(server);
        } catch (JMException | RuntimeException e) {
            LOG.log(Level.WARNING, "the session replication filter's MBean could not be registered", e);
            bean = null;
        }
        AutoCloseable meters = null;
        if (micrometerUsable(appLoader)) {
            try {
                meters = MicrometerMeters.bind(registry, registryName, counters, state, context, filter);
            } catch (RuntimeException | LinkageError e) {
                LOG.log(Level.WARNING, "the session replication filter's meters could not be registered", e);
            }
        }
        return new FilterMetrics(server, bean, meters);
    }

    /** The context tag and ObjectName key: the path, or ROOT for the root application as Tomcat names it. */
    static String contextLabel(String contextPath) {
        return contextPath == null || contextPath.isEmpty() || contextPath.equals("/") ? "ROOT" : contextPath;
    }

    public static ObjectName objectName(String contextPath, String filterName) throws MalformedObjectNameException {
        return new ObjectName(JMX_DOMAIN + ":type=SessionReplicationFilter,context="
                + quoteIfNeeded(contextLabel(contextPath)) + ",name=" + quoteIfNeeded(filterName));
    }

    private static String quoteIfNeeded(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (",=:\"*?\n".indexOf(value.charAt(i)) >= 0) {
                return ObjectName.quote(value);
            }
        }
        return value.isEmpty() ? ObjectName.quote(value) : value;
    }

    /**
     * Micrometer is used only when the application can load it and it is the same class the
     * filter's own loader resolves: with the filter jar in a shared lib directory and Micrometer in
     * the application, the binder would link against another copy (or none) and fail.
     */
    static boolean micrometerUsable(ClassLoader appLoader) {
        ClassLoader own = FilterMetrics.class.getClassLoader();
        Class<?> appType = load(appLoader != null ? appLoader : own);
        if (appType == null) {
            LOG.fine("Micrometer is not on the application's class path: filter metrics over JMX only");
            return false;
        }
        if (load(own) != appType) {
            LOG.info("the application's Micrometer is not visible from the session replication filter's class"
                    + " loader (filter jar outside WEB-INF/lib?): filter metrics over JMX only");
            return false;
        }
        return true;
    }

    private static Class<?> load(ClassLoader loader) {
        try {
            return Class.forName(METER_REGISTRY_CLASS, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    /** The registered MBean's name, or null when JMX registration failed. */
    public ObjectName objectName() {
        return bean == null ? null : bean.name;
    }

    /** Whether meters were registered with Micrometer. */
    public boolean micrometerBound() {
        return meters != null;
    }

    @Override
    public void close() {
        if (bean != null) {
            bean.unregister(server);
        }
        if (meters != null) {
            try {
                meters.close();
            } catch (Exception | LinkageError e) {
                LOG.log(Level.WARNING, "the session replication filter's meters could not be removed", e);
            }
        }
    }

    private static final class Bean extends StandardMBean implements FilterMetricsMBean {
        private static final Map<String, String> DESCRIPTIONS = descriptions();

        private static Map<String, String> descriptions() {
            Map<String, String> d = new HashMap<>();
            for (Count c : COUNTS) {
                d.put(c.attribute, c.description + " (" + c.baseUnit + ")");
            }
            for (ByClass b : BY_CLASS) {
                d.put(b.attribute, b.description + " (" + b.baseUnit + ", a map from class name to count)");
            }
            d.put("SerializeTimeNanos", "Total time spent serializing attribute values (nanoseconds)");
            d.put("Serializations", "Attribute values serialized");
            for (Reading l : READINGS) {
                d.put(l.attribute, l.description + " (" + l.baseUnit + ")");
            }
            return Collections.unmodifiableMap(d);
        }

        private final FilterCounters counters;
        private final FilterState state;
        final ObjectName name;
        /** False once the server dropped this instance, also when a later filter replaced it. */
        private volatile boolean registered;

        Bean(FilterCounters counters, FilterState state, ObjectName name) throws NotCompliantMBeanException {
            super(FilterMetricsMBean.class);
            this.counters = counters;
            this.state = state;
            this.name = name;
        }

        void register(MBeanServer server) throws JMException {
            try {
                server.registerMBean(this, name);
            } catch (InstanceAlreadyExistsException e) {
                // A previous deployment that was not destroyed, or two filters sharing a name:
                // the live filter is the one worth watching.
                LOG.warning("MBean " + name + " already registered; replacing it with this filter's");
                try {
                    server.unregisterMBean(name);
                } catch (InstanceNotFoundException gone) {
                    // Unregistered meanwhile: nothing to replace.
                }
                server.registerMBean(this, name);
            }
        }

        void unregister(MBeanServer server) {
            if (!registered) {
                return;
            }
            try {
                server.unregisterMBean(name);
            } catch (InstanceNotFoundException e) {
                // Already gone.
            } catch (JMException | RuntimeException e) {
                LOG.log(Level.WARNING, "MBean " + name + " could not be unregistered", e);
            }
        }

        @Override
        public void postRegister(Boolean registrationDone) {
            registered = Boolean.TRUE.equals(registrationDone);
        }

        @Override
        public void postDeregister() {
            registered = false;
        }

        @Override
        protected String getDescription(MBeanInfo info) {
            return "Session replication filter counters, read live";
        }

        @Override
        protected String getDescription(MBeanAttributeInfo info) {
            String d = DESCRIPTIONS.get(info.getName());
            return d != null ? d : super.getDescription(info);
        }

        @Override
        public long getSerializeTimeNanos() {
            return counters.serializeNanos();
        }

        @Override
        public long getSerializations() {
            return counters.serializations();
        }

        @Override
        public long getDeltasSent() {
            return counters.deltasSent();
        }

        @Override
        public long getDeltaBytes() {
            return counters.deltaBytes();
        }

        @Override
        public long getSkippedAttributes() {
            return counters.skippedAttributes();
        }

        @Override
        public long getDeserializeFailures() {
            return counters.deserializeFailures();
        }

        @Override
        public Map<String, Long> getDeserializeFailuresByClass() {
            return counters.deserializeFailuresByClass();
        }

        @Override
        public long getRefusedAttributes() {
            return counters.refusedAttributes();
        }

        @Override
        public Map<String, Long> getRefusedAttributesByClass() {
            return counters.refusedAttributesByClass();
        }

        @Override
        public long getAgentErrors() {
            return counters.agentErrors();
        }

        @Override
        public long getAgentCallsSkipped() {
            return counters.agentCallsSkipped();
        }

        @Override
        public long getFailoverRestores() {
            return counters.failoverRestores();
        }

        @Override
        public long getFailoverMisses() {
            return counters.failoverMisses();
        }

        @Override
        public long getFailoverUnavailable() {
            return counters.failoverUnavailable();
        }

        @Override
        public long getCacheEvictions() {
            return counters.cacheEvictions();
        }

        @Override
        public long getCacheMisses() {
            return counters.cacheMisses();
        }

        @Override
        public long getTouchesSent() {
            return counters.touchesSent();
        }

        @Override
        public long getSessionsCreated() {
            return counters.sessionsCreated();
        }

        @Override
        public long getSessionsExpired() {
            return counters.sessionsExpired();
        }

        @Override
        public long getWriteConflicts() {
            return counters.writeConflicts();
        }

        @Override
        public long getWritesCoalesced() {
            return counters.writesCoalesced();
        }

        @Override
        public long getWritesNotReplicated() {
            return counters.writesNotReplicated();
        }

        @Override
        public long getWritesUnconfirmed() {
            return counters.writesUnconfirmed();
        }

        @Override
        public long getStreamFailures() {
            return counters.streamFailures();
        }

        @Override
        public long getBackpressureWaits() {
            return counters.backpressureWaits();
        }

        @Override
        public long getBackpressureTimeouts() {
            return counters.backpressureTimeouts();
        }

        @Override
        public int getLocalSessions() {
            return state.localSessionCount();
        }

        @Override
        public int getAgentDown() {
            return state.agentDown() ? 1 : 0;
        }

        @Override
        public int getPendingWrites() {
            return state.pendingWrites();
        }

        @Override
        public long getReplicationLagMillis() {
            return state.replicationLagMs();
        }
    }
}
