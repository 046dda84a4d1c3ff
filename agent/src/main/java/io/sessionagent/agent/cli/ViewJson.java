package io.sessionagent.agent.cli;

import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.MemberState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON form of a {@link ClusterView}: keys as in the proto, every field present (also at its
 * default), 64-bit values as plain JSON numbers and the table hash also as a hex string. Written
 * by hand because protobuf's JsonFormat is not on the class path.
 */
public final class ViewJson {

    /** A number written as is; unsigned 64-bit values do not fit a Java long's toString. */
    private record Num(String digits) {}

    private ViewJson() {}

    /** The view as a JSON document, as {@code view --json} prints it and the admin port serves it. */
    public static String format(ClusterView view) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("cluster_name", view.getClusterName());
        root.put("self", member(view.getSelf()));
        List<Object> members = new ArrayList<>();
        for (Member m : view.getMembersList()) {
            members.add(member(m));
        }
        root.put("members", members);
        root.put("view_id", unsigned(view.getViewId()));
        root.put("session_count", unsigned(view.getSessionCount()));
        root.put("bytes_held", unsigned(view.getBytesHeld()));
        root.put("table_hash", unsigned(view.getTableHash()));
        root.put("table_hash_hex", String.format("%016x", view.getTableHash()));
        Map<String, Object> counters = new LinkedHashMap<>();
        new TreeMap<>(view.getCountersMap()).forEach((k, v) -> counters.put(k, unsigned(v)));
        root.put("counters", counters);
        root.put("replication_enabled", view.getReplicationEnabled());
        StringBuilder sb = new StringBuilder();
        write(sb, root, 0);
        return sb.append('\n').toString();
    }

    private static Map<String, Object> member(Member m) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("member_id", unsigned(m.getMemberId()));
        map.put("node_name", m.getNodeName());
        map.put("incarnation", unsigned(m.getIncarnation()));
        map.put("peer_address", m.getPeerAddress());
        // Enum names as proto3 JSON writes them; an unknown value falls back to its number.
        map.put("state", m.getState() == MemberState.UNRECOGNIZED
                ? new Num(Integer.toString(m.getStateValue())) : m.getState().name());
        map.put("last_heard_ms_ago", new Num(Long.toString(m.getLastHeardMsAgo())));
        map.put("session_count", unsigned(m.getSessionCount()));
        return map;
    }

    private static Num unsigned(long value) {
        return new Num(Long.toUnsignedString(value));
    }

    private static void write(StringBuilder sb, Object value, int depth) {
        if (value instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            sb.append("{\n");
            int i = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                indent(sb, depth + 1);
                string(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                write(sb, e.getValue(), depth + 1);
                sb.append(++i < map.size() ? ",\n" : "\n");
            }
            indent(sb, depth);
            sb.append('}');
        } else if (value instanceof List<?> list) {
            if (list.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append("[\n");
            for (int i = 0; i < list.size(); i++) {
                indent(sb, depth + 1);
                write(sb, list.get(i), depth + 1);
                sb.append(i + 1 < list.size() ? ",\n" : "\n");
            }
            indent(sb, depth);
            sb.append(']');
        } else if (value instanceof Num n) {
            sb.append(n.digits());
        } else if (value instanceof Boolean b) {
            sb.append(b);
        } else {
            string(sb, String.valueOf(value));
        }
    }

    private static void indent(StringBuilder sb, int depth) {
        sb.append("  ".repeat(depth));
    }

    static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
