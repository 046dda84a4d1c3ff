package io.sessionagent.servers.launch;

import java.io.File;

import picocli.CommandLine.Option;

/** What both launchers are told: where the exploded WAR is, which port on 127.0.0.1, and a scratch directory. */
public final class WebappOptions {
    @Option(names = "--port", required = true, description = "HTTP port on 127.0.0.1")
    public int port;

    @Option(names = "--webapp", required = true, description = "the exploded WAR, deployed at /")
    public File webapp;

    @Option(names = "--work", required = true, description = "the server's scratch directory (created)")
    public File work;

    /** The loopback address: nothing of these servers is reachable from another machine. */
    public static final String HOST = "127.0.0.1";
}
