package io.sessionagent.sample.launcher;

import org.apache.catalina.core.StandardContext;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The options that reach the filter's init-params, and how they replace web.xml's. */
class SampleNodeTest {
    private static final String[] REQUIRED = {"--port", "8081", "--route", "node1", "--war", "app.war"};

    private static String[] args(String... more) {
        String[] all = new String[REQUIRED.length + more.length];
        System.arraycopy(REQUIRED, 0, all, 0, REQUIRED.length);
        System.arraycopy(more, 0, all, REQUIRED.length, more.length);
        return all;
    }

    @Test
    void replicationModeTakesAsyncOrSyncOnly() {
        assertThat(SampleNode.parse(args("--replication-mode", "async"))).containsEntry("replication-mode", "async");
        assertThat(SampleNode.parse(args("--replication-mode=sync"))).containsEntry("replication-mode", "sync");
        assertThat(SampleNode.parse(args())).doesNotContainKey("replication-mode");
        assertThat(SampleNode.parse(args("--replication-mode", "SYNC"))).isNull();
        assertThat(SampleNode.parse(args("--replication-mode", "none"))).isNull();
        assertThat(SampleNode.parse(args("--replication-mode"))).isNull();
    }

    @Test
    void agentAndModeBecomeFilterInitParams() {
        assertThat(SampleNode.filterInitParams(SampleNode.parse(args()))).isEmpty();
        assertThat(SampleNode.filterInitParams(SampleNode.parse(args("--agent", "127.0.0.1:7410"))))
                .containsExactly(Map.entry("agent-address", "127.0.0.1:7410"));
        assertThat(SampleNode.filterInitParams(SampleNode.parse(args("--replication-mode", "async"))))
                .containsExactly(Map.entry("replication-mode", "async"));
        assertThat(SampleNode.filterInitParams(
                SampleNode.parse(args("--agent", "127.0.0.1:7410", "--replication-mode", "sync"))))
                .containsOnly(Map.entry("agent-address", "127.0.0.1:7410"), Map.entry("replication-mode", "sync"));
    }

    @Test
    void theOverridesReplaceWebXmlOnTheSessionAgentFiltersOnly() {
        StandardContext context = new StandardContext();
        FilterDef replication = new FilterDef();
        replication.setFilterName("sessionReplication");
        replication.setFilterClass("io.sessionagent.filter.jakarta.SessionReplicationFilter");
        replication.addInitParameter("replication-mode", "sync"); // as the sample WAR's web.xml
        replication.addInitParameter("cookie-name", "SASESSIONID");
        context.addFilterDef(replication);
        FilterDef other = new FilterDef();
        other.setFilterName("other");
        other.setFilterClass("com.example.OtherFilter");
        other.addInitParameter("replication-mode", "sync");
        context.addFilterDef(other);

        SampleNode.overrideFilterInitParams(context,
                Map.of("replication-mode", "async", "agent-address", "127.0.0.1:7410"));

        assertThat(replication.getParameterMap()).containsOnly(Map.entry("replication-mode", "async"),
                Map.entry("agent-address", "127.0.0.1:7410"), Map.entry("cookie-name", "SASESSIONID"));
        assertThat(other.getParameterMap()).containsOnly(Map.entry("replication-mode", "sync"));
    }
}
