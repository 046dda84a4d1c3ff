package io.sessionagent.agent.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * What a command reads and writes besides the network: its output, its error stream and the
 * environment, passed in so that tests run commands in the JVM.
 */
record Console(PrintStream out, PrintStream err, Map<String, String> env) {}
