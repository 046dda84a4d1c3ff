package io.sessionagent.agent.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.MemberState;

import java.util.TreeMap;

/**
 * The JSON form of a {@link ClusterView}: keys as in the proto, every field present (also at its
 * default), 64-bit values as plain JSON numbers and the table hash also as a hex string, so that
 * {@code jq} compares them as numbers. Protobuf's JsonFormat writes 64-bit values as strings and
 * leaves defaults out, hence a tree of our own.
 */
public final class ViewJson {

    private ViewJson() {
    }

    /** The view as a JSON document, as {@code view --json} prints it and the admin port serves it. */
    public static String format(ClusterView view) {
        JsonObject root = new JsonObject();
        root.addProperty("cluster_name", view.getClusterName());
        root.add("self", member(view.getSelf()));
        JsonArray members = new JsonArray();
        for (Member m : view.getMembersList()) {
            members.add(member(m));
        }
        root.add("members", members);
        root.add("view_id", Json.unsigned(view.getViewId()));
        root.add("session_count", Json.unsigned(view.getSessionCount()));
        root.add("bytes_held", Json.unsigned(view.getBytesHeld()));
        root.add("table_hash", Json.unsigned(view.getTableHash()));
        root.addProperty("table_hash_hex", String.format("%016x", view.getTableHash()));
        JsonObject counters = new JsonObject();
        new TreeMap<>(view.getCountersMap()).forEach((k, v) -> counters.add(k, Json.unsigned(v)));
        root.add("counters", counters);
        root.addProperty("replication_enabled", view.getReplicationEnabled());
        return Json.pretty(root) + "\n";
    }

    private static JsonObject member(Member m) {
        JsonObject o = new JsonObject();
        o.add("member_id", Json.unsigned(m.getMemberId()));
        o.addProperty("node_name", m.getNodeName());
        o.add("incarnation", Json.unsigned(m.getIncarnation()));
        o.addProperty("peer_address", m.getPeerAddress());
        // Enum names as proto3 JSON writes them; an unknown value falls back to its number.
        if (m.getState() == MemberState.UNRECOGNIZED) {
            o.addProperty("state", m.getStateValue());
        } else {
            o.addProperty("state", m.getState().name());
        }
        o.addProperty("last_heard_ms_ago", m.getLastHeardMsAgo());
        o.add("session_count", Json.unsigned(m.getSessionCount()));
        return o;
    }
}
