package io.sessionagent.agent.membership;

import java.util.List;

/** The other members of the cluster at one moment, ordered by member id, and the view's number. */
public record View(long viewId, List<MemberSnapshot> members) {
}
