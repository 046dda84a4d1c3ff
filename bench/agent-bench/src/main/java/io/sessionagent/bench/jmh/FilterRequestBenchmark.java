package io.sessionagent.bench.jmh;

import io.sessionagent.agent.Agent;
import io.sessionagent.agent.config.AgentConfig;
import io.sessionagent.filter.core.FilterSettings;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.filter.core.session.SessionEvents;
import io.sessionagent.filter.core.session.SessionIds;
import io.sessionagent.filter.core.SessionManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The filter's per-request work without the servlet container: look the session up by its cookie,
 * change or read it, commit at request end. A changed session costs one WriteDelta call over gRPC
 * (loopback) to a real agent started in this JVM; a read-only request sends nothing at once (its
 * access is coalesced). The servlet adapters only wrap these calls.
 *
 * <pre>java -jar bench/agent-bench/target/benchmarks.jar FilterRequestBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Djava.net.preferIPv4Stack=true")
public class FilterRequestBenchmark {
    private static final SessionEvents NO_EVENTS = new SessionEvents() {
        @Override
        public void created(SessionData session) {
        }

        @Override
        public void destroyed(SessionData session) {
        }

        @Override
        public void activated(SessionData session) {
        }
    };

    private Agent agent;
    private SessionManager manager;
    private String cookie;
    private byte[] value;
    private int counter;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        Map<String, String> settings = new HashMap<>();
        settings.put("cluster-name", "jmh-" + Long.toHexString(r.nextLong()));
        settings.put("node-name", "jmh");
        settings.put("multicast-group", "239.255." + r.nextInt(1, 255) + "." + r.nextInt(1, 255));
        settings.put("multicast-port", Integer.toString(r.nextInt(20_000, 60_000)));
        settings.put("multicast-interface", "lo");
        settings.put("multicast-ttl", "0");
        settings.put("grpc-port", "0");
        settings.put("peer-port", "0");
        settings.put("metrics-port", "0");
        settings.put("peer-address", "127.0.0.1");
        settings.put("join-wait", "300ms");
        agent = new Agent(AgentConfig.fromMap(settings));
        agent.start();
        agent.replicator().ready().get(30, TimeUnit.SECONDS);
        Map<String, String> params = new HashMap<>();
        params.put(FilterSettings.AGENT_ADDRESS, "127.0.0.1:" + agent.grpcPort());
        params.put(FilterSettings.ROUTE, "jmh");
        params.put(FilterSettings.AGENT_TIMEOUT, "5s");
        FilterSettings fs = FilterSettings.parse(params::get, "");
        manager = new SessionManager(fs, FilterRequestBenchmark.class.getClassLoader(), NO_EVENTS,
                System::currentTimeMillis);
        SessionData s = manager.create();
        value = new byte[1000];
        s.setAttribute("payload", value);
        manager.commit(s);
        cookie = SessionIds.cookieValue(s.id(), "jmh");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
        agent.close();
    }

    /** A request that changes a small attribute: one delta to the agent. */
    @Benchmark
    public long changedRequest() {
        SessionData s = manager.find(cookie).session();
        s.setAttribute("counter", ++counter);
        manager.commit(s);
        return s.version();
    }

    /** A request that changes a 1 KB attribute. */
    @Benchmark
    public long changedRequestOneKb() {
        SessionData s = manager.find(cookie).session();
        value[0]++;
        s.setAttribute("payload", value);
        manager.commit(s);
        return s.version();
    }

    /** A request that only reads: the access is coalesced, nothing is sent at once. */
    @Benchmark
    public Object readOnlyRequest() {
        SessionData s = manager.find(cookie).session();
        Object v = s.getAttribute("payload");
        manager.commit(s);
        return v;
    }
}
