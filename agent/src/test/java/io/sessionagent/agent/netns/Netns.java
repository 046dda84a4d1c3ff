package io.sessionagent.agent.netns;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private Ethernet segment for a few nodes, built from network namespaces only: a "switch"
 * namespace holds a Linux bridge, and each node namespace is joined to it by a veth pair whose
 * two ends are created directly inside those namespaces. The root namespace and its interfaces
 * are never touched, so multicast and the addresses of the test range stay on this machine.
 *
 * <p>Every name carries a random suffix so that concurrent runs do not collide. {@link #close()}
 * kills the processes started here and deletes every namespace, which also removes the bridge
 * and the veth pairs.
 */
final class Netns implements AutoCloseable {
    /** Addresses exist only inside the node namespaces; the range is private and never routed. */
    private static final String SUBNET = "10.213.0.";
    private static final String LOSS_TABLE = "sa_loss";
    private static final Pattern NFT_COUNTER = Pattern.compile("counter packets (\\d+)");
    private static final long COMMAND_TIMEOUT_SECONDS = 20;

    private final String suffix;
    private final String switchNs;
    private final List<String> nodes = new ArrayList<>();
    private final List<String> created = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    /** Deletes the namespaces should the test JVM be stopped (e.g. a fork timeout) before close(). */
    private final Thread shutdownHook = new Thread(this::close, "netns-teardown");
    private boolean closed;

    private Netns(String suffix) {
        this.suffix = suffix;
        this.switchNs = "sa-" + suffix + "-sw";
    }

    /** Builds the switch and {@code count} nodes; on any failure what was built is removed. */
    static Netns create(int count) {
        Netns net = new Netns(randomSuffix());
        Runtime.getRuntime().addShutdownHook(net.shutdownHook);
        try {
            net.createSwitch();
            for (int i = 1; i <= count; i++) {
                net.createNode(i);
            }
            return net;
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    /**
     * Why this machine cannot run namespace tests, or null when it can: root is needed for
     * {@code ip netns}, and {@code nft} for the loss rules.
     */
    static String unavailableReason() {
        for (String tool : List.of("ip", "nft")) {
            if (onPath(tool) == null) {
                return "'" + tool + "' not found on PATH or in /usr/sbin, /sbin"
                        + " (install iproute2 and nftables)";
            }
        }
        try {
            String uid = run(List.of("id", "-u")).trim();
            if (!uid.equals("0")) {
                return "network namespaces need root; running as uid " + uid;
            }
        } catch (RuntimeException e) {
            return "cannot determine the user id: " + e.getMessage();
        }
        return null;
    }

    String suffix() {
        return suffix;
    }

    /** Name of node {@code i}'s namespace (1-based). */
    String node(int i) {
        return nodes.get(i - 1);
    }

    /** The node's end of its veth pair, the interface its agent sends and joins the group on. */
    String nodeInterface(int i) {
        return "s" + suffix + "n" + i;
    }

    /** The bridge's end of node {@code i}'s veth pair. */
    private String bridgePort(int i) {
        return "s" + suffix + "b" + i;
    }

    private String bridge() {
        return "s" + suffix + "br";
    }

    String address(int i) {
        return SUBNET + (10 + i);
    }

    /** Starts {@code command} inside node {@code i}'s namespace; output and errors go to {@code log}. */
    Process start(int i, List<String> command, Path log) {
        List<String> full = new ArrayList<>(List.of(tool("ip"), "netns", "exec", node(i)));
        full.addAll(command);
        try {
            Files.createDirectories(log.getParent());
            // ip netns exec replaces itself with the command, so the process is the command.
            Process p = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + full + ": " + e.getMessage(), e);
        }
    }

    /** Like {@link #start} but the caller talks to the process over stdin and stdout; stderr goes to {@code log}. */
    Process startInteractive(int i, List<String> command, Path log) {
        List<String> full = new ArrayList<>(List.of(tool("ip"), "netns", "exec", node(i)));
        full.addAll(command);
        try {
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(full)
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + full + ": " + e.getMessage(), e);
        }
    }

    /**
     * SIGKILL, as {@code kill -9}: {@link Process#destroyForcibly} sends exactly that on Linux, and
     * the process is the agent itself since {@code ip netns exec} replaces itself with it.
     * Returns once the process is gone, so a restart cannot find its ports still taken.
     */
    void kill9(Process p) {
        p.destroyForcibly();
        try {
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("process " + p.pid() + " survived SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Cuts node {@code i} off the segment (down) or reconnects it (up), at the bridge. */
    void setLink(int i, boolean up) {
        ip("-n", switchNs, "link", "set", bridgePort(i), up ? "up" : "down");
    }

    /**
     * Drops {@code percent} % of the UDP datagrams to {@code port} at node {@code i}'s ingress.
     * Loss is applied on receive because a drop on output makes sendto fail instead of losing
     * the datagram. Two counters record what arrived and what was dropped.
     */
    void dropIncomingUdp(int i, int port, int percent) {
        dropIncoming(i, percent, "udp", "dport", Integer.toString(port));
    }

    /**
     * Drops {@code percent} % of every IP packet arriving at node {@code i} from the segment:
     * multicast, the peer channel's TCP and everything else (ARP is not IP and passes). Counted
     * like {@link #dropIncomingUdp}.
     */
    void dropIncomingAll(int i, int percent) {
        dropIncoming(i, percent, "iifname", nodeInterface(i));
    }

    private void dropIncoming(int i, int percent, String... match) {
        String ns = node(i);
        nft(ns, "add", "table", "inet", LOSS_TABLE);
        nft(ns, "add", "chain", "inet", LOSS_TABLE, "in", "{ type filter hook input priority 0; }");
        List<String> count = new ArrayList<>(List.of("add", "rule", "inet", LOSS_TABLE, "in"));
        count.addAll(List.of(match));
        List<String> drop = new ArrayList<>(count);
        count.add("counter");
        drop.addAll(List.of("numgen", "random", "mod", "100", "<", Integer.toString(percent), "counter", "drop"));
        nft(ns, count.toArray(String[]::new));
        nft(ns, drop.toArray(String[]::new));
    }

    /** {arrived, dropped} packets counted by the rules of {@link #dropIncomingUdp} or {@link #dropIncomingAll}. */
    long[] udpLossCounters(int i) {
        String listing = nft(node(i), "list", "chain", "inet", LOSS_TABLE, "in");
        Matcher m = NFT_COUNTER.matcher(listing);
        long[] counts = new long[2];
        for (int k = 0; k < 2; k++) {
            if (!m.find()) {
                throw new IllegalStateException("no counter " + k + " in:\n" + listing);
            }
            counts[k] = Long.parseLong(m.group(1));
        }
        return counts;
    }

    /** Kills every process started here, then deletes the namespaces. Safe to call twice. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is queued to run; close() is idempotent, so it will find nothing to do.
            }
        }
        for (Process p : processes) {
            p.destroyForcibly();
        }
        for (Process p : processes) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<String> failures = new ArrayList<>();
        // Nodes first: their veth ends go with them, then the bridge goes with the switch.
        List<String> order = new ArrayList<>(created);
        Collections.reverse(order);
        for (String ns : order) {
            killLeftovers(ns);
            try {
                ip("netns", "del", ns);
            } catch (RuntimeException e) {
                failures.add(e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("teardown incomplete: " + failures);
        }
    }

    /**
     * A namespace lives on while a process is inside it. Only processes started here can be
     * inside these fresh namespaces; this catches one that outlived its handle.
     */
    private static void killLeftovers(String ns) {
        try {
            for (String pid : run(List.of(tool("ip"), "netns", "pids", ns)).split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        } catch (RuntimeException ignored) {
            // The namespace may already be gone; deletion reports what matters.
        }
    }

    private void createSwitch() {
        addNamespace(switchNs);
        // Without snooping the bridge floods multicast to every port; with it, group traffic
        // would depend on IGMP reports and a querier that this segment does not have.
        ip("-n", switchNs, "link", "add", bridge(), "type", "bridge", "mcast_snooping", "0");
        ip("-n", switchNs, "link", "set", bridge(), "up");
    }

    private void createNode(int i) {
        String ns = "sa-" + suffix + "-n" + i;
        addNamespace(ns);
        nodes.add(ns);
        // Both ends are created inside namespaces, so no interface ever appears in the root one.
        ip("-n", switchNs, "link", "add", bridgePort(i), "type", "veth", "peer", "name", nodeInterface(i),
                "netns", ns);
        ip("-n", switchNs, "link", "set", bridgePort(i), "master", bridge());
        ip("-n", switchNs, "link", "set", bridgePort(i), "up");
        ip("-n", ns, "addr", "add", address(i) + "/24", "dev", nodeInterface(i));
        ip("-n", ns, "link", "set", nodeInterface(i), "up");
    }

    private void addNamespace(String ns) {
        ip("netns", "add", ns);
        created.add(ns);
        ip("-n", ns, "link", "set", "lo", "up");
    }

    private static String ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool("ip")));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    private static String nft(String ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool("ip"), "netns", "exec", ns, tool("nft")));
        cmd.addAll(List.of(args));
        return run(cmd);
    }

    /** Runs a command to completion; fails with its output when it fails or hangs. */
    static String run(List<String> command) {
        Path output = null;
        try {
            // Output goes to a file so that a hung command cannot block a read past the timeout.
            output = Files.createTempFile("netns-cmd", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException("timed out: " + String.join(" ", command));
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue()
                        + ": " + text.trim());
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + String.join(" ", command), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }

    private static String tool(String name) {
        String path = onPath(name);
        return path == null ? name : path;
    }

    /** The tool's path; root's sbin directories count even when PATH (e.g. under sudo -E) lacks them. */
    private static String onPath(String name) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String dir : dirs) {
            if (!dir.isEmpty()) {
                File f = new File(dir, name);
                if (f.isFile() && f.canExecute()) {
                    return f.getAbsolutePath();
                }
            }
        }
        return null;
    }

    /** Five characters: keeps interface names ("s" + suffix + "br") far below the 15-character limit. */
    private static String randomSuffix() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom random = new SecureRandom();
        StringBuilder sb = new StringBuilder();
        sb.append(alphabet.charAt(random.nextInt(26)));
        for (int k = 1; k < 5; k++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
