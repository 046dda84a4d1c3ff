package io.sessionagent.agent.membership;

import io.sessionagent.proto.v1.MemberState;

/** One member as seen at one moment; safe to hand to any thread. */
public record MemberSnapshot(long id, long incarnation, String nodeName, String peerAddress, MemberState state,
                             long lastHeardMsAgo, long sessionCount) {
}
