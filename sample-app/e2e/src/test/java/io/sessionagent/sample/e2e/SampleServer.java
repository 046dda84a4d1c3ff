package io.sessionagent.sample.e2e;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What a sample node runs: a launcher jar and the sample WAR for its servlet API, each named by a
 * system property the build sets to the file in target/. Both launchers are built from one source
 * (sample-app/launcher's SampleNode), which prints the Tomcat it runs once started.
 */
enum SampleServer {
    /** sample-app/launcher: embedded Tomcat 11 serving the jakarta WAR. */
    TOMCAT11("tomcat11", "sample.node.jar", "sample.war", "Apache Tomcat/11."),
    /** sample-app/launcher-tomcat9: embedded Tomcat 9 serving the javax WAR. */
    TOMCAT9("tomcat9", "sample.node.tomcat9.jar", "sample.javax.war", "Apache Tomcat/9.");

    /** The name tests and scripts use ({@code -Dfailover.server=tomcat9}). */
    final String id;
    private final String jarProperty;
    private final String warProperty;
    /** How Tomcat's server info of this line begins: what the started node must report. */
    final String serverInfoPrefix;

    SampleServer(String id, String jarProperty, String warProperty, String serverInfoPrefix) {
        this.id = id;
        this.jarProperty = jarProperty;
        this.warProperty = warProperty;
        this.serverInfoPrefix = serverInfoPrefix;
    }

    Path launcherJar() {
        return LocalCluster.file(jarProperty);
    }

    Path war() {
        return LocalCluster.file(warProperty);
    }

    static SampleServer byId(String id) {
        for (SampleServer s : values()) {
            if (s.id.equals(id.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("a sample server is one of " + Arrays.stream(values())
                .map(s -> s.id).collect(Collectors.joining("|")) + "; was " + id);
    }

    @Override
    public String toString() {
        return id;
    }
}
