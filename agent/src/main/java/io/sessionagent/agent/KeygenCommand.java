package io.sessionagent.agent;

import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * {@code keygen [--id N]}: prints one line for a key file, a fresh 256-bit AES key under id N
 * (default 1). Generating keys here spares operators from picking a tool and a format.
 */
final class KeygenCommand {
    private final PrintStream out;
    private final PrintStream err;

    KeygenCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        int id = 1;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            if (a.startsWith("--id=")) {
                value = a.substring("--id=".length());
            } else if (a.equals("--id") && i + 1 < args.length) {
                value = args[++i];
            } else {
                err.println("session-agent keygen: unexpected argument " + a + " (usage: keygen [--id N])");
                return Main.USAGE;
            }
            try {
                id = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                id = 0;
            }
            if (id < 1) {
                err.println("session-agent keygen: --id must be a whole number from 1 to " + Integer.MAX_VALUE);
                return Main.USAGE;
            }
        }
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        out.println(id + ":" + Base64.getEncoder().encodeToString(key));
        return Main.OK;
    }
}
