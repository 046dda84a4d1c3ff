package io.sessionagent.agent.cli;

/**
 * A {@code host:port} pair as given on the command line; IPv6 literals are written
 * {@code [::1]:7400}.
 */
record HostPort(String host, int port) {

    static HostPort parse(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException("must be HOST:PORT, e.g. 127.0.0.1:7400 or [::1]:7400");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException("must be HOST:PORT, e.g. 127.0.0.1:7400 or [::1]:7400");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (host.isEmpty() || p < 1 || p > 65535) {
            throw new IllegalArgumentException("must be HOST:PORT with a port between 1 and 65535");
        }
        return new HostPort(host, p);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
