package io.sessionagent.filter.core.agent;

import io.grpc.netty.shaded.io.netty.util.concurrent.FastThreadLocal;
import io.grpc.netty.shaded.io.netty.util.internal.InternalThreadLocalMap;

/**
 * What a request leaves on the container's thread. A call to the agent made on a request thread
 * runs Netty code, which keeps its per-thread state in a {@code ThreadLocal} whose value is a
 * class of the web application: the container's threads outlive the application, so each would
 * keep its class loader after a stop or redeploy (Tomcat reports every one at undeploy). The
 * filter releases that state when it is done with the thread; Netty's own threads keep theirs.
 */
public final class RequestThreads {
    private RequestThreads() {
    }

    /** Releases this thread's Netty state, if a call to the agent made any. */
    public static void release() {
        if (InternalThreadLocalMap.getIfSet() != null) {
            FastThreadLocal.removeAll();
        }
    }
}
