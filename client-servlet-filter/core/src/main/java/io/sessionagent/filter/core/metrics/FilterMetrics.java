package io.sessionagent.filter.core.metrics;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanRegistration;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.ReflectionException;

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

    /** The timer made of {@link FilterCounter#SERIALIZATIONS} and {@link FilterCounter#SERIALIZE_NANOS}. */
    static final String SERIALIZE_METER = FilterCounter.METER_PREFIX + "serialize";
    static final String SERIALIZE_DESCRIPTION = "Time spent serializing attribute values; count: values serialized";

    /** One reading of the filter's state: its meter, its JMX attribute and where it comes from. */
    static final class Reading {
        final String meter;
        final String attribute;
        final String baseUnit;
        final String description;
        /** Published over JMX as an int rather than a long. */
        final boolean asInt;
        final ToLongFunction<FilterState> read;

        Reading(String meter, String attribute, String baseUnit, String description, boolean asInt,
                ToLongFunction<FilterState> read) {
            this.meter = meter;
            this.attribute = attribute;
            this.baseUnit = baseUnit;
            this.description = description;
            this.asInt = asInt;
            this.read = read;
        }
    }

    /** The gauges; the JMX attributes carry the same descriptions. */
    static final List<Reading> READINGS = Collections.unmodifiableList(Arrays.asList(
            new Reading("session_filter.sessions.local", "LocalSessions", "sessions",
                    "Sessions in this node's local cache", true, FilterState::localSessionCount),
            new Reading("session_filter.agent.down", "AgentDown", "boolean",
                    "1 while the agent is gone (connection refused or broken) and sessions are served locally"
                            + " only; 0 while it answers, however slowly", true, s -> s.agentDown() ? 1 : 0),
            new Reading("session_filter.writes.pending", "PendingWrites", "writes",
                    "Writes handed to the agent and not answered yet (at most one waiting to leave per session)",
                    true, FilterState::pendingWrites),
            new Reading("session_filter.replication.lag", "ReplicationLagMillis", "milliseconds",
                    "How long the oldest write the agent has not confirmed has waited; async requests wait while it"
                            + " is above max-replication-lag", false, FilterState::replicationLagMs)));

    /** A count per class name: a meter per class (tag {@code class}) and one JMX attribute holding them all. */
    static final class ByClass {
        final String meter;
        final String attribute;
        final String baseUnit;
        final String description;
        final Function<FilterCounters, ClassCounts> counts;

        ByClass(String meter, String attribute, String baseUnit, String description,
                Function<FilterCounters, ClassCounts> counts) {
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

    /**
     * A dynamic MBean built from the catalogues: an attribute per {@link FilterCounter}, per
     * {@link #BY_CLASS} entry and per {@link #READINGS} gauge, so that a new counter needs no getter.
     */
    private static final class Bean implements DynamicMBean, MBeanRegistration {
        private final Map<String, Supplier<Object>> readers = new LinkedHashMap<>();
        private final MBeanInfo info;
        final ObjectName name;
        /** False once the server dropped this instance, also when a later filter replaced it. */
        private volatile boolean registered;

        Bean(FilterCounters counters, FilterState state, ObjectName name) {
            this.name = name;
            List<MBeanAttributeInfo> attributes = new ArrayList<>();
            for (FilterCounter c : FilterCounter.values()) {
                readers.put(c.attribute(), () -> counters.get(c));
                attributes.add(attribute(c.attribute(), long.class, c.description() + " (" + c.baseUnit() + ")"));
            }
            for (ByClass b : BY_CLASS) {
                readers.put(b.attribute, () -> b.counts.apply(counters).snapshot());
                attributes.add(attribute(b.attribute, Map.class,
                        b.description + " (" + b.baseUnit + ", a map from class name to count, sorted by name)"));
            }
            for (Reading r : READINGS) {
                Supplier<Object> read = r.asInt
                        ? () -> (int) r.read.applyAsLong(state)
                        : () -> r.read.applyAsLong(state);
                readers.put(r.attribute, read);
                attributes.add(attribute(r.attribute, r.asInt ? int.class : long.class,
                        r.description + " (" + r.baseUnit + ")"));
            }
            info = new MBeanInfo(Bean.class.getName(), "Session replication filter counters, read live",
                    attributes.toArray(new MBeanAttributeInfo[0]), null, null, null);
        }

        private static MBeanAttributeInfo attribute(String name, Class<?> type, String description) {
            return new MBeanAttributeInfo(name, type.getName(), description, true, false, false);
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
        public Object getAttribute(String attribute) throws AttributeNotFoundException {
            Supplier<Object> reader = readers.get(attribute);
            if (reader == null) {
                throw new AttributeNotFoundException(attribute);
            }
            return reader.get();
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            AttributeList list = new AttributeList();
            for (String a : attributes) {
                Supplier<Object> reader = readers.get(a);
                if (reader != null) {
                    list.add(new Attribute(a, reader.get()));
                }
            }
            return list;
        }

        @Override
        public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
            throw new AttributeNotFoundException(attribute.getName() + " is read-only");
        }

        @Override
        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList();
        }

        @Override
        public Object invoke(String action, Object[] params, String[] signature) throws ReflectionException {
            throw new ReflectionException(new NoSuchMethodException(action), "the filter's MBean has no operations");
        }

        @Override
        public MBeanInfo getMBeanInfo() {
            return info;
        }

        @Override
        public ObjectName preRegister(MBeanServer server, ObjectName objectName) {
            return objectName;
        }

        @Override
        public void postRegister(Boolean registrationDone) {
            registered = Boolean.TRUE.equals(registrationDone);
        }

        @Override
        public void preDeregister() {
        }

        @Override
        public void postDeregister() {
            registered = false;
        }
    }
}
