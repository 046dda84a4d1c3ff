package io.sessionagent.agent.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition that other threads bring about, with a deadline and a useful failure. */
public final class Eventually {
    private Eventually() {
    }

    public static void await(Duration timeout, BooleanSupplier condition, Supplier<String> whatWasExpected) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout.toMillis() + " ms: " + whatWasExpected.get());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** Milliseconds until the condition held. */
    public static long timeUntil(Duration timeout, BooleanSupplier condition, Supplier<String> whatWasExpected) {
        long start = System.nanoTime();
        await(timeout, condition, whatWasExpected);
        return (System.nanoTime() - start) / 1_000_000;
    }
}
