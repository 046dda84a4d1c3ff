package io.sessionagent.bench.http.node;

import org.apache.catalina.ha.session.ClusterSessionListener;
import org.apache.catalina.ha.session.DeltaManager;
import org.apache.catalina.ha.tcp.ReplicationValve;
import org.apache.catalina.ha.tcp.SimpleTcpCluster;
import org.apache.catalina.tribes.group.GroupChannel;
import org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor;
import org.apache.catalina.tribes.group.interceptors.TcpFailureDetector;
import org.apache.catalina.tribes.membership.StaticMember;
import org.apache.catalina.tribes.membership.StaticMembershipService;
import org.apache.catalina.tribes.transport.nio.NioReceiver;

import java.io.IOException;

/**
 * Tomcat's own session replication, configured the way its documentation's default cluster is
 * (SimpleTcpCluster, DeltaManager, ReplicationValve, ClusterSessionListener, GroupChannel with
 * MessageDispatchInterceptor and TcpFailureDetector; the JvmRouteBinderValve is left out, since no
 * jvmRoute is set and no session ever moves), except for membership: static members on
 * 127.0.0.1 instead of McastService, so that no multicast datagram (nor an IGMP join on the
 * default interface) ever leaves loopback.
 */
final class DeltaCluster {
    private DeltaCluster() {
    }

    /**
     * @param sendOptions the cluster's {@code channelSendOptions}: 8 asynchronous (queued, sent by
     *                    a dispatcher thread), 6 = USE_ACK | SYNCHRONIZED_ACK (the request waits until
     *                    the other node has applied the delta and acknowledged it)
     */
    static SimpleTcpCluster create(int sendOptions, int ownPort, int peerPort, int nodeIndex) throws IOException {
        SimpleTcpCluster cluster = new SimpleTcpCluster();
        cluster.setChannelSendOptions(sendOptions);

        DeltaManager template = new DeltaManager();
        template.setExpireSessionsOnShutdown(false);
        template.setNotifyListenersOnReplication(true);
        cluster.setManagerTemplate(template);

        GroupChannel channel = new GroupChannel();
        NioReceiver receiver = new NioReceiver();
        receiver.setAddress("127.0.0.1");
        receiver.setPort(ownPort);
        receiver.setAutoBind(1);
        channel.setChannelReceiver(receiver);

        StaticMembershipService membership = new StaticMembershipService();
        membership.setLocalMember(member(ownPort, nodeIndex));
        membership.addStaticMember(member(peerPort, nodeIndex == 1 ? 2 : 1));
        // Pings every second from a thread of its own: without it a member is only refreshed on
        // the channel heartbeat, no more often than the 5 s expiration.
        membership.setUseThread(true);
        membership.setPingInterval(1000);
        channel.setMembershipService(membership);

        // The interceptors, in the order, that SimpleTcpCluster adds when none are configured.
        channel.addInterceptor(new MessageDispatchInterceptor());
        channel.addInterceptor(new TcpFailureDetector());
        cluster.setChannel(channel);

        cluster.addValve(new ReplicationValve());
        cluster.addClusterListener(new ClusterSessionListener());
        return cluster;
    }

    private static StaticMember member(int port, int index) throws IOException {
        StaticMember m = new StaticMember();
        m.setHost("127.0.0.1");
        m.setPort(port);
        byte[] id = new byte[16];
        id[15] = (byte) index;
        m.setUniqueId(id);
        return m;
    }
}
