package io.sessionagent.agent.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The test's end of a {@link NetnsClient} process: commands go out tagged, answers come back in
 * whatever order they finish and complete the future of their tag. Many commands may be in
 * flight at once, which is what a steady write load with sync writes needs.
 */
final class NodeClient {
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    final int node;
    private final Process process;
    private final Writer in;
    private final AtomicLong tags = new AtomicLong();
    private final Map<Long, CompletableFuture<Map<String, String>>> pending = new ConcurrentHashMap<>();
    private volatile boolean exited;

    NodeClient(int node, Process process) {
        this.node = node;
        this.process = process;
        this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(this::readAnswers, "netns-client-" + node);
        reader.setDaemon(true);
        reader.start();
    }

    private void readAnswers() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                int space = line.indexOf(' ');
                CompletableFuture<Map<String, String>> f = space < 0 ? null
                        : pending.remove(Long.parseLong(line.substring(0, space)));
                if (f != null) {
                    complete(f, line.substring(space + 1));
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // The process is gone or garbled; everything still waiting fails below.
        }
        exited = true;
        pending.values().forEach(f -> f.completeExceptionally(
                new AssertionError("node" + node + " client: process exited")));
    }

    private void complete(CompletableFuture<Map<String, String>> f, String answer) {
        if (!answer.startsWith("ok")) {
            f.completeExceptionally(new AssertionError("node" + node + " client answered " + answer));
            return;
        }
        Map<String, String> fields = new HashMap<>();
        for (String pair : answer.substring(2).trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                fields.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        f.complete(fields);
    }

    /** Sends one command; the future holds the {@code key=value} fields of its {@code ok} answer. */
    CompletableFuture<Map<String, String>> send(String command) {
        long tag = tags.incrementAndGet();
        CompletableFuture<Map<String, String>> f = new CompletableFuture<>();
        pending.put(tag, f);
        if (exited) {
            pending.remove(tag);
            f.completeExceptionally(new AssertionError("node" + node + " client: process exited"));
            return f;
        }
        try {
            synchronized (in) {
                in.write(tag + " " + command + "\n");
                in.flush();
            }
        } catch (IOException e) {
            pending.remove(tag);
            f.completeExceptionally(new AssertionError("node" + node + " client: cannot send '" + command + "': " + e));
        }
        return f;
    }

    Map<String, String> view() {
        return call("view");
    }

    Map<String, String> call(String command) {
        return call(command, CALL_TIMEOUT);
    }

    /** Sends one command and waits for its answer; fails on an error answer or when none comes in time. */
    Map<String, String> call(String command, Duration timeout) {
        CompletableFuture<Map<String, String>> f = send(command);
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("node" + node + " client: no answer to '" + command + "' within "
                    + timeout.toSeconds() + " s");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
