package io.sessionagent.agent;

import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** The text of {@code --help}; the settings table is generated from the catalogue. */
final class Usage {

    private Usage() {}

    static void print(PrintStream out) {
        out.print("""
                Usage: java -jar session-agent.jar [COMMAND] [OPTIONS]

                Commands:
                  run    Start the agent (the default when the first argument is a flag or absent).
                         run [--config FILE] [--NAME=VALUE ...]
                  view   Show the cluster as the local agent sees it.
                         view [--grpc HOST:PORT] [--grpc-port N] [--json] [--timeout 3s]
                  get    Print one session the local agent holds.
                         get ID [--grpc HOST:PORT] [--json]
                  list   List the sessions the local agent holds, by id.
                         list [--grpc HOST:PORT] [--limit 100] [--json]
                  put    Write attributes of a session (text values), for smoke tests and demos.
                         put ID NAME=VALUE ... [--remove NAME] [--sync] [--grpc HOST:PORT]
                  replication  Switch replication of the local agent off or on (on resynchronises).
                         replication on|off [--admin HOST:PORT]
                  drain  Leave the cluster in order and refuse calls; the agent runs on until stopped.
                         drain [--admin HOST:PORT]
                  health Exit 0 while the agent serves (for container health checks).
                         health [--admin HOST:PORT]
                  ready  Exit 0 once the agent holds the cluster's sessions.
                         ready [--admin HOST:PORT]
                  keygen Print a new 256-bit cluster key as a key-file line (see cluster-key-file).
                         keygen [--id 1]

                view, get, list and put find the agent at grpc-address:grpc-port of its settings;
                replication, drain, health and ready at metrics-address:metrics-port, which also
                serves /metrics, /health and /ready.

                Options:
                  -h, --help       Show this help.
                  --version        Print the version.
                  --config FILE    Read settings from a YAML file (or set SESSION_AGENT_CONFIG=FILE).
                  --NAME=VALUE     Set a setting (also --NAME VALUE); a boolean flag alone means true.

                Settings are taken from, later winning: the defaults below, the YAML file (a flat map,
                one "NAME: VALUE" per line), environment variables SESSION_AGENT_<NAME> (upper case,
                "-" as "_", e.g. SESSION_AGENT_GRPC_PORT=7500), then flags --NAME=VALUE.
                Durations: 500ms, 3s, 10m, 1h, or a bare number of milliseconds.
                Sizes: 1400, 64KiB, 1MiB, 1GiB, or a bare number of bytes.

                Settings:
                """);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "TYPE", "DEFAULT", "DESCRIPTION"});
        for (Setting<?> s : Settings.all()) {
            rows.add(new String[] {s.name(), s.type(), s.defaultLabel(), s.description()});
        }
        TextTable.print(out, "  ", rows);
        out.print("""

                Exit codes: 0 success, 1 the agent failed or refused, 2 usage or configuration error,
                3 the agent could not be reached, 4 no such session (get).
                """);
    }

    /** Help of get, list and put. */
    static String sessionCommands() {
        return """
                Usage: java -jar session-agent.jar get ID [--grpc HOST:PORT] [--json]
                       java -jar session-agent.jar list [--grpc HOST:PORT] [--limit 100] [--json]
                       java -jar session-agent.jar put ID NAME=VALUE ... [--remove NAME] [--sync] [--grpc HOST:PORT]
                The agent is found at --grpc HOST:PORT, else at grpc-address:grpc-port of its settings.
                put writes on top of the session's current version; --sync waits for every replica.""";
    }
}
