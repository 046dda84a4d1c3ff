package io.sessionagent.agent.cli;

import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.MemberState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The human-readable form of a {@link ClusterView}. */
final class ViewPrinter {

    private ViewPrinter() {}

    static String format(ClusterView view) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);

        List<String[]> summary = new ArrayList<>();
        summary.add(new String[] {"cluster", view.getClusterName()});
        summary.add(new String[] {"self", view.getSelf().getNodeName()});
        summary.add(new String[] {"view id", Long.toUnsignedString(view.getViewId())});
        summary.add(new String[] {"sessions", Long.toUnsignedString(view.getSessionCount())});
        summary.add(new String[] {"bytes held", Long.toUnsignedString(view.getBytesHeld())
                + " (" + humanBytes(view.getBytesHeld()) + ")"});
        summary.add(new String[] {"table hash", hex(view.getTableHash())});
        summary.add(new String[] {"replication", view.getReplicationEnabled() ? "enabled" : "disabled"});
        TextTable.print(out, "", summary);

        out.println();
        List<String[]> members = new ArrayList<>();
        members.add(new String[] {"MEMBER", "STATE", "LAST HEARD", "SESSIONS", "PEER", "MEMBER ID", "INCARNATION"});
        members.add(row(view.getSelf(), true));
        for (Member m : view.getMembersList()) {
            members.add(row(m, false));
        }
        TextTable.print(out, "", members);

        out.println();
        if (view.getCountersMap().isEmpty()) {
            out.println("no counters");
        } else {
            List<String[]> counters = new ArrayList<>();
            counters.add(new String[] {"COUNTER", "VALUE"});
            for (Map.Entry<String, Long> c : new TreeMap<>(view.getCountersMap()).entrySet()) {
                counters.add(new String[] {c.getKey(), Long.toUnsignedString(c.getValue())});
            }
            TextTable.print(out, "", counters);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    private static String[] row(Member m, boolean self) {
        return new String[] {
            m.getNodeName() + (self ? " (self)" : ""),
            state(m),
            self ? "-" : ago(m.getLastHeardMsAgo()),
            Long.toUnsignedString(m.getSessionCount()),
            m.getPeerAddress().isEmpty() ? "-" : m.getPeerAddress(),
            hex(m.getMemberId()),
            Long.toUnsignedString(m.getIncarnation()),
        };
    }

    static String state(Member m) {
        MemberState s = m.getState();
        if (s == MemberState.UNRECOGNIZED) {
            return "STATE_" + m.getStateValue();
        }
        return s.name().replace("MEMBER_STATE_", "");
    }

    static String hex(long value) {
        return String.format("0x%016x", value);
    }

    private static String ago(long ms) {
        if (ms < 1000) {
            return ms + "ms ago";
        }
        return String.format(Locale.ROOT, "%.1fs ago", ms / 1000.0);
    }

    static String humanBytes(long bytes) {
        if (bytes >= 0 && bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = bytes < 0 ? bytes + 0x1p64 : bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
