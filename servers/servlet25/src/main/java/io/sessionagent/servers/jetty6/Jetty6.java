package io.sessionagent.servers.jetty6;

import io.sessionagent.servers.launch.WebappOptions;

import java.io.File;
import java.util.concurrent.Callable;

import org.mortbay.jetty.Server;
import org.mortbay.jetty.nio.SelectChannelConnector;
import org.mortbay.jetty.webapp.WebAppContext;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Jetty 6 (Servlet 2.5) embedded from its Maven Central jars, one web application at /, one HTTP
 * connector on 127.0.0.1. Container sessions stay Jetty's plain in-memory manager.
 */
@Command(name = "jetty6", mixinStandardHelpOptions = true, description = "Jetty 6 with one web application at /")
public final class Jetty6 implements Callable<Integer> {
    @Mixin
    private WebappOptions options;

    public static void main(String[] args) {
        int exit = new CommandLine(new Jetty6()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws Exception {
        File tmp = new File(options.work.getAbsoluteFile(), "tmp");
        if (!tmp.mkdirs() && !tmp.isDirectory()) {
            throw new IllegalStateException("cannot create " + tmp);
        }
        Server server = new Server();
        SelectChannelConnector http = new SelectChannelConnector();
        http.setHost(WebappOptions.HOST);
        http.setPort(options.port);
        server.addConnector(http);

        WebAppContext context = new WebAppContext();
        context.setContextPath("/");
        context.setWar(options.webapp.getAbsolutePath());
        context.setTempDirectory(tmp);
        server.setHandler(context);
        server.setStopAtShutdown(true);
        server.start();
        if (context.getUnavailableException() != null || !context.isStarted()) {
            server.stop();
            System.err.println("the web application at " + options.webapp + " did not start");
            return 1;
        }
        server.join();
        return 0;
    }
}
