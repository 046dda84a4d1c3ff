package io.sessionagent.servers.tomcat6;

import io.sessionagent.servers.launch.WebappOptions;

import java.io.File;
import java.util.concurrent.Callable;

import org.apache.catalina.Context;
import org.apache.catalina.Engine;
import org.apache.catalina.Host;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Embedded;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Tomcat 6 (Servlet 2.5) embedded from its Maven Central jars, one web application at /. Its
 * distribution archive is not served there; Tomcat 6's own embedding API (Embedded) builds what
 * server.xml would: an engine, a host, the context, one HTTP connector on 127.0.0.1, no shutdown
 * port, no AJP, no Cluster. Container sessions stay Tomcat's plain in-memory manager.
 */
@Command(name = "tomcat6", mixinStandardHelpOptions = true, description = "Tomcat 6 with one web application at /")
public final class Tomcat6 implements Callable<Integer> {
    @Mixin
    private WebappOptions options;

    public static void main(String[] args) {
        int exit = new CommandLine(new Tomcat6()).execute(args);
        if (exit != 0) {
            System.exit(exit);
        }
    }

    @Override
    public Integer call() throws Exception {
        File base = options.work.getAbsoluteFile();
        File appBase = new File(base, "webapps");
        if (!appBase.mkdirs() && !appBase.isDirectory()) {
            throw new IllegalStateException("cannot create " + appBase);
        }
        Embedded tomcat = new Embedded();
        tomcat.setCatalinaHome(base.getPath());
        tomcat.setCatalinaBase(base.getPath());
        tomcat.setUseNaming(false);
        tomcat.setAwait(true);

        Engine engine = tomcat.createEngine();
        engine.setName("Catalina");
        engine.setDefaultHost("localhost");
        Host host = tomcat.createHost("localhost", appBase.getPath());
        engine.addChild(host);
        Context context = tomcat.createContext("", options.webapp.getAbsolutePath());
        host.addChild(context);
        tomcat.addEngine(engine);

        Connector http = tomcat.createConnector(WebappOptions.HOST, options.port, false);
        tomcat.addConnector(http);
        tomcat.start();
        if (!context.getAvailable()) {
            tomcat.stop();
            System.err.println("the web application at " + options.webapp + " did not start");
            return 1;
        }
        // Runs until the process is killed, as catalina.sh run does.
        Thread.currentThread().join();
        return 0;
    }
}
