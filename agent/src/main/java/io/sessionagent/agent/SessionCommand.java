package io.sessionagent.agent;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.sessionagent.agent.config.ConfigException;
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
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * {@code get}, {@code put} and {@code list}: look at (or, for smoke tests and demos, write) the
 * sessions a running agent holds. Values are shown as text when they are UTF-8, else as base64.
 */
final class SessionCommand {
    private final String command;
    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;

    SessionCommand(String command, PrintStream out, PrintStream err, Map<String, String> env) {
        this.command = command;
        this.out = out;
        this.err = err;
        this.env = env;
    }

    int run(String[] args) {
        List<String> rest = new ArrayList<>();
        List<String> removed = new ArrayList<>();
        boolean sync = false;
        int limit = 100;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--sync" -> sync = true;
                case "--remove" -> {
                    if (i + 1 >= args.length) {
                        return usage("--remove needs an attribute name");
                    }
                    removed.add(args[++i]);
                }
                case "--limit" -> {
                    if (i + 1 >= args.length || !args[i + 1].matches("\\d{1,5}")) {
                        return usage("--limit needs a number between 1 and 10000");
                    }
                    limit = Integer.parseInt(args[++i]);
                }
                default -> rest.add(args[i]);
            }
        }
        ClientOptions options;
        try {
            options = ClientOptions.parse(rest.toArray(String[]::new), env);
        } catch (ConfigException e) {
            return usage(e.getMessage());
        }
        if (options.help) {
            out.println(Usage.sessionCommands());
            return Main.OK;
        }
        try {
            return switch (command) {
                case "get" -> get(options);
                case "put" -> put(options, removed, sync);
                default -> list(options, limit);
            };
        } catch (StatusRuntimeException e) {
            return AgentCall.report(command, options.target, e, err);
        }
    }

    private int usage(String problem) {
        err.println("session-agent " + command + ": " + problem);
        return Main.USAGE;
    }

    private int get(ClientOptions o) {
        if (o.positional.size() != 1) {
            return usage("give exactly one session id");
        }
        String id = o.positional.get(0);
        GetSessionResponse r = AgentCall.call(o.target, o.timeout,
                stub -> stub.getSession(GetSessionRequest.newBuilder().setId(id).build()));
        if (!r.getFound()) {
            err.println("session-agent get: the agent at " + o.target + " holds no session " + id);
            return Main.NOT_FOUND;
        }
        out.print(o.json ? json(r.getSession()) : text(r.getSession()));
        return Main.OK;
    }

    private int put(ClientOptions o, List<String> removed, boolean sync) {
        if (o.positional.isEmpty()) {
            return usage("give a session id, then NAME=VALUE pairs");
        }
        String id = o.positional.get(0);
        SessionChange.Builder change = SessionChange.newBuilder().setId(id).addAllRemoved(removed)
                .setMaxInactiveSeconds(1800);
        for (String pair : o.positional.subList(1, o.positional.size())) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                return usage("'" + pair + "' is not NAME=VALUE");
            }
            change.addSet(Attribute.newBuilder().setName(pair.substring(0, eq))
                    .setValue(ByteString.copyFromUtf8(pair.substring(eq + 1))));
        }
        long now = System.currentTimeMillis();
        GetSessionResponse current = AgentCall.call(o.target, o.timeout,
                stub -> stub.getSession(GetSessionRequest.newBuilder().setId(id).build()));
        change.setBaseVersion(current.getFound() ? current.getSession().getVersion() : 0)
                .setCreationTimeMs(current.getFound() ? current.getSession().getCreationTimeMs() : now)
                .setAccessTimeMs(now);
        WriteResponse w = AgentCall.call(o.target, o.timeout, stub -> stub.writeDelta(WriteRequest.newBuilder()
                .setChange(change)
                .setDurability(sync ? Durability.DURABILITY_SYNC_ALL : Durability.DURABILITY_ASYNC)
                .build()));
        out.println(id + " version " + w.getVersion() + " " + w.getOutcome().name().replace("WRITE_OUTCOME_", "")
                .toLowerCase() + (sync ? " (" + w.getAcks() + " acks)" : ""));
        return Main.OK;
    }

    private int list(ClientOptions o, int limit) {
        ListSessionsResponse page = AgentCall.call(o.target, o.timeout,
                stub -> stub.listSessions(ListSessionsRequest.newBuilder().setPageSize(limit).build()));
        if (o.json) {
            StringBuilder sb = new StringBuilder("[");
            for (SessionSummary s : page.getSessionsList()) {
                sb.append(sb.length() > 1 ? ",\n " : "").append("{\"id\":").append(quote(s.getId()))
                        .append(",\"version\":").append(Long.toUnsignedString(s.getVersion()))
                        .append(",\"writer\":").append(Long.toUnsignedString(s.getWriter()))
                        .append(",\"bytes\":").append(s.getBytes()).append('}');
            }
            out.println(sb.append(']'));
        } else {
            for (SessionSummary s : page.getSessionsList()) {
                out.printf("%s  version %d  %d bytes  last access %s%n", s.getId(), s.getVersion(), s.getBytes(),
                        Instant.ofEpochMilli(s.getLastAccessTimeMs()));
            }
        }
        return Main.OK;
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
        StringBuilder sb = new StringBuilder("{\"id\":").append(quote(r.getId()))
                .append(",\"version\":").append(Long.toUnsignedString(r.getVersion()))
                .append(",\"writer\":").append(Long.toUnsignedString(r.getWriter()))
                .append(",\"creation_time_ms\":").append(r.getCreationTimeMs())
                .append(",\"last_access_time_ms\":").append(r.getLastAccessTimeMs())
                .append(",\"max_inactive_seconds\":").append(r.getMaxInactiveSeconds())
                .append(",\"attributes\":{");
        boolean first = true;
        for (Attribute a : r.getAttributesList()) {
            String utf8 = utf8(a.getValue());
            sb.append(first ? "" : ",").append(quote(a.getName())).append(":{\"bytes\":").append(a.getValue().size())
                    .append(utf8 != null ? ",\"utf8\":" + quote(utf8)
                            : ",\"base64\":" + quote(Base64.getEncoder().encodeToString(a.getValue().toByteArray())))
                    .append('}');
            first = false;
        }
        return sb.append("}}\n").toString();
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

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        ViewJson.string(sb, s);
        return sb.toString();
    }
}
