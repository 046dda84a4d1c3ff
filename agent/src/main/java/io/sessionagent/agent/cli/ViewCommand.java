package io.sessionagent.agent.cli;

import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code view}: asks the local agent for its cluster view and prints it, as a table or as JSON. */
@Command(name = "view",
        header = "Show the cluster as the local agent sees it.",
        customSynopsis = "view [--grpc HOST:PORT] [--grpc-port N] [--json] [--timeout 10s]",
        description = {
            "Members, their state and when each was last heard, sessions, table hash and counters of the"
                    + " agent at --grpc HOST:PORT, else at grpc-address:grpc-port of its settings"
                    + " (flags such as --grpc-port N, SESSION_AGENT_* variables, --config FILE)."})
final class ViewCommand extends SessionCommands.GrpcCommand {

    @Option(names = "--json", arity = "0..1", paramLabel = "true|false",
            description = "Print JSON (the same as the admin port's /admin/view) instead of a table.")
    boolean json;

    ViewCommand(Console console) {
        super(console);
    }

    @Override
    int call(ClientOptions o) {
        ClusterView view = AgentCall.call(o, stub -> stub.getClusterView(ClusterViewRequest.getDefaultInstance()));
        console.out().print(json ? ViewJson.format(view) : ViewPrinter.format(view));
        console.out().flush();
        return Cli.OK;
    }
}
