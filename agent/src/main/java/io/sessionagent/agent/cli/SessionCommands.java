package io.sessionagent.agent.cli;

import com.google.gson.JsonObject;
import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.ListSessionsResponse;
import io.sessionagent.proto.v1.SessionChange;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code get}, {@code put} and {@code list}: look at (or, for smoke tests and demos, write) the
 * sessions a running agent holds. Values are shown as text when they are UTF-8, else as base64.
 */
final class SessionCommands {
    static final String FOOTER = "The agent is found at --grpc HOST:PORT, else at grpc-address:grpc-port of its"
            + " settings (flags such as --grpc-port N, SESSION_AGENT_* variables, --config FILE).";

    private SessionCommands() {}

    /** The options of every command that talks to the SessionService. */
    abstract static class GrpcCommand extends ClientCommand {
        @Option(names = "--grpc", paramLabel = "HOST:PORT",
                description = "The agent's SessionService. Default: grpc-address:grpc-port of its settings.")
        String grpc;

        GrpcCommand(Console console) {
            super(console);
        }

        @Override
        ClientOptions.Port port() {
            return ClientOptions.Port.GRPC;
        }

        @Override
        String address() {
            return grpc;
        }

        @Override
        final int run(ClientOptions o) {
            try {
                return call(o);
            } catch (StatusRuntimeException e) {
                return AgentCall.report(name(), o.target(), e, console.err());
            }
        }

        abstract int call(ClientOptions o);
    }

    @Command(name = "get",
            header = "Print one session the local agent holds.",
            customSynopsis = "get ID [--grpc HOST:PORT] [--json]",
            description = "Values are shown as text when they are UTF-8, else as base64. Exit code 4: no such session.",
            footer = FOOTER)
    static final class Get extends GrpcCommand {
        @Parameters(paramLabel = "ID", arity = "0..*", description = "The session id.")
        List<String> ids = List.of();

        @Option(names = "--json", arity = "0..1", paramLabel = "true|false",
                description = "Print JSON instead of text.")
        boolean json;

        Get(Console console) {
            super(console);
        }

        @Override
        int call(ClientOptions o) {
            if (ids.size() != 1) {
                return usage("give exactly one session id");
            }
            String id = ids.get(0);
            GetSessionResponse r = AgentCall.call(o,
                    stub -> stub.getSession(GetSessionRequest.newBuilder().setId(id).build()));
            if (!r.getFound()) {
                console.err().println("session-agent get: the agent at " + o.target() + " holds no session " + id);
                return Cli.NOT_FOUND;
            }
            console.out().print(json ? json(r.getSession()) : text(r.getSession()));
            return Cli.OK;
        }
    }

    @Command(name = "list",
            header = "List the sessions the local agent holds, by id.",
            customSynopsis = "list [--grpc HOST:PORT] [--limit 100] [--json]",
            footer = FOOTER)
    static final class ListSessions extends GrpcCommand {
        static final int MAX_LIMIT = 10_000;

        @Option(names = "--limit", paramLabel = "N",
                description = "Most sessions listed, 1 to " + MAX_LIMIT + ". Default: 100.")
        String limit;

        @Option(names = "--json", arity = "0..1", paramLabel = "true|false",
                description = "Print a JSON array instead of text.")
        boolean json;

        ListSessions(Console console) {
            super(console);
        }

        @Override
        int call(ClientOptions o) {
            int n = 100;
            if (limit != null) {
                n = limit.matches("\\d{1,5}") ? Integer.parseInt(limit) : 0;
                if (n < 1 || n > MAX_LIMIT) {
                    return usage("--limit: " + limit + " must be a number between 1 and " + MAX_LIMIT);
                }
            }
            int pageSize = n;
            ListSessionsResponse page = AgentCall.call(o,
                    stub -> stub.listSessions(ListSessionsRequest.newBuilder().setPageSize(pageSize).build()));
            if (json) {
                // One array, one session to a line, so that line tools (grep -c, sed) can read it as
                // well as JSON parsers; demo/topology.sh counts and reads sessions that way.
                List<String> lines = new ArrayList<>();
                for (SessionSummary s : page.getSessionsList()) {
                    JsonObject summary = new JsonObject();
                    summary.addProperty("id", s.getId());
                    summary.add("version", Json.unsigned(s.getVersion()));
                    summary.add("writer", Json.unsigned(s.getWriter()));
                    summary.addProperty("bytes", s.getBytes());
                    lines.add(Json.compact(summary));
                }
                console.out().println("[" + String.join(",\n ", lines) + "]");
            } else {
                for (SessionSummary s : page.getSessionsList()) {
                    console.out().printf("%s  version %d  %d bytes  last access %s%n", s.getId(), s.getVersion(),
                            s.getBytes(), Instant.ofEpochMilli(s.getLastAccessTimeMs()));
                }
            }
            return Cli.OK;
        }
    }

    @Command(name = "put",
            header = "Write attributes of a session (text values), for smoke tests and demos.",
            customSynopsis = "put ID NAME=VALUE ... [--remove NAME] [--sync] [--grpc HOST:PORT]",
            description = "put writes on top of the session's current version; --sync waits for every replica.",
            footer = FOOTER)
    static final class Put extends GrpcCommand {
        @Parameters(paramLabel = "ID NAME=VALUE", arity = "0..*",
                description = "The session id, then the attributes to set.")
        List<String> words = List.of();

        @Option(names = "--remove", paramLabel = "NAME", description = "Remove this attribute; may be repeated.")
        List<String> removed = List.of();

        @Option(names = "--sync", arity = "0..1", paramLabel = "true|false",
                description = "Wait until every replica has applied the write (else: once it is sent).")
        boolean sync;

        Put(Console console) {
            super(console);
        }

        @Override
        int call(ClientOptions o) {
            if (words.isEmpty()) {
                return usage("give a session id, then NAME=VALUE pairs");
            }
            String id = words.get(0);
            SessionChange.Builder change = SessionChange.newBuilder().setId(id).addAllRemoved(removed)
                    .setMaxInactiveSeconds(1800);
            for (String pair : words.subList(1, words.size())) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    return usage("'" + pair + "' is not NAME=VALUE");
                }
                change.addSet(Attribute.newBuilder().setName(pair.substring(0, eq))
                        .setValue(ByteString.copyFromUtf8(pair.substring(eq + 1))));
            }
            long now = System.currentTimeMillis();
            GetSessionResponse current = AgentCall.call(o,
                    stub -> stub.getSession(GetSessionRequest.newBuilder().setId(id).build()));
            change.setBaseVersion(current.getFound() ? current.getSession().getVersion() : 0)
                    .setCreationTimeMs(current.getFound() ? current.getSession().getCreationTimeMs() : now)
                    .setAccessTimeMs(now);
            WriteResponse w = AgentCall.call(o, stub -> stub.writeDelta(WriteRequest.newBuilder()
                    .setChange(change)
                    .setDurability(sync ? Durability.DURABILITY_SYNC_ALL : Durability.DURABILITY_ASYNC)
                    .build()));
            console.out().println(id + " version " + w.getVersion() + " "
                    + w.getOutcome().name().replace("WRITE_OUTCOME_", "").toLowerCase()
                    + (sync ? " (" + w.getAcks() + " acks)" : ""));
            return Cli.OK;
        }
    }

    private static String text(SessionRecord r) {
        StringBuilder sb = new StringBuilder();
        sb.append("session ").append(r.getId()).append('\n')
                .append("  version      ").append(Long.toUnsignedString(r.getVersion())).append('\n')
                .append("  writer       ").append(Long.toHexString(r.getWriter())).append('\n')
                .append("  created      ").append(Instant.ofEpochMilli(r.getCreationTimeMs())).append('\n')
                .append("  last access  ").append(Instant.ofEpochMilli(r.getLastAccessTimeMs())).append('\n')
                .append("  max inactive ").append(r.getMaxInactiveSeconds()).append(" s\n");
        for (Attribute a : r.getAttributesList()) {
            String utf8 = utf8(a.getValue());
            sb.append("  ").append(a.getName()).append(" = ")
                    .append(utf8 != null ? utf8 : "base64:" + Base64.getEncoder().encodeToString(a.getValue()
                            .toByteArray()))
                    .append("  (").append(a.getValue().size()).append(" bytes)\n");
        }
        return sb.toString();
    }

    private static String json(SessionRecord r) {
        JsonObject o = new JsonObject();
        o.addProperty("id", r.getId());
        o.add("version", Json.unsigned(r.getVersion()));
        o.add("writer", Json.unsigned(r.getWriter()));
        o.addProperty("creation_time_ms", r.getCreationTimeMs());
        o.addProperty("last_access_time_ms", r.getLastAccessTimeMs());
        o.addProperty("max_inactive_seconds", r.getMaxInactiveSeconds());
        JsonObject attributes = new JsonObject();
        for (Attribute a : r.getAttributesList()) {
            JsonObject value = new JsonObject();
            value.addProperty("bytes", a.getValue().size());
            String utf8 = utf8(a.getValue());
            if (utf8 != null) {
                value.addProperty("utf8", utf8);
            } else {
                value.addProperty("base64", Base64.getEncoder().encodeToString(a.getValue().toByteArray()));
            }
            attributes.add(a.getName(), value);
        }
        o.add("attributes", attributes);
        return Json.compact(o) + "\n";
    }

    /** The value as text when it is printable UTF-8, else null. */
    private static String utf8(ByteString value) {
        try {
            String s = StandardCharsets.UTF_8.newDecoder().decode(value.asReadOnlyByteBuffer()).toString();
            return s.chars().allMatch(c -> c >= 0x20 || c == '\t') ? s : null;
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
