package io.sessionagent.agent.cli;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code keygen [--id N]}: prints one line for a key file, a fresh 256-bit AES key under id N
 * (default 1). Generating keys here spares operators from picking a tool and a format.
 */
@Command(name = "keygen",
        header = "Print a new 256-bit cluster key as a key-file line (see cluster-key-file).",
        customSynopsis = "keygen [--id 1]",
        description = "The line is N:<base64 key>; the first line of a key file is the key agents send with.")
final class KeygenCommand implements Callable<Integer> {
    private final Console console;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
    boolean help;

    @Option(names = "--id", paramLabel = "N", description = "Id of the key, 1 to 2147483647. Default: 1.")
    String id;

    KeygenCommand(Console console) {
        this.console = console;
    }

    @Override
    public Integer call() {
        int n = 1;
        if (id != null) {
            try {
                n = Integer.parseInt(id);
            } catch (NumberFormatException e) {
                n = 0;
            }
            if (n < 1) {
                console.err().println("session-agent keygen: --id must be a whole number from 1 to "
                        + Integer.MAX_VALUE);
                return Cli.USAGE;
            }
        }
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        console.out().println(n + ":" + Base64.getEncoder().encodeToString(key));
        return Cli.OK;
    }
}
