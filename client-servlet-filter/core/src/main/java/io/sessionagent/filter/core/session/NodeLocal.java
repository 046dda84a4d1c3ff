package io.sessionagent.filter.core.session;

/**
 * Marks a session attribute value that belongs to this node only: it is kept in the local
 * session, never serialized and never sent to the agent, so after a failover the attribute is
 * absent on the node that takes the session over. For values that are cheap to rebuild or
 * meaningless elsewhere (caches, handles to local files or connections).
 *
 * <p>A marker, with no methods, so that application classes can implement it without
 * depending on anything else of the filter.
 */
public interface NodeLocal {
}
