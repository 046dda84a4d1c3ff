package io.sessionagent.agent.auth;

import java.util.HashMap;
import java.util.Map;

/**
 * Refuses a control frame (heartbeat, leave, NAK, ACK, GONE) whose counter this agent has seen
 * before from the same run of its sender, the way IPsec's anti-replay window does. Without it a
 * recorded heartbeat replayed later would keep a dead member in the view, and a replayed GONE
 * would make receivers skip data. Data frames do not come here: their sequence numbers already
 * make a repeat a duplicate, and retransmissions repeat them on purpose.
 *
 * <p>Only frames that passed authentication reach this class, so its memory holds one entry per
 * real member and cannot be flooded.
 */
final class ReplayGuard {
    /** Counters this far behind the newest are refused even if unseen: reordering is never that deep. */
    static final int WINDOW = 1024;

    private final Map<Long, Stream> streams = new HashMap<>();

    synchronized boolean accept(long memberId, long incarnation, long salt, long counter) {
        Stream s = streams.get(memberId);
        if (s == null || incarnation > s.incarnation || incarnation == s.incarnation && salt != s.salt) {
            s = new Stream(incarnation, salt);
            streams.put(memberId, s);
        } else if (incarnation < s.incarnation) {
            // An earlier run of a member that restarted since: nothing it says is current.
            return false;
        }
        return s.accept(counter);
    }

    private static final class Stream {
        final long incarnation;
        final long salt;
        final boolean[] seen = new boolean[WINDOW];
        long highest;

        Stream(long incarnation, long salt) {
            this.incarnation = incarnation;
            this.salt = salt;
        }

        boolean accept(long counter) {
            if (counter <= 0) {
                return false;
            }
            if (counter > highest) {
                long clear = Math.min(counter - highest, WINDOW);
                for (long c = counter - clear + 1; c <= counter; c++) {
                    seen[slot(c)] = false;
                }
                highest = counter;
                seen[slot(counter)] = true;
                return true;
            }
            if (highest - counter >= WINDOW || seen[slot(counter)]) {
                return false;
            }
            seen[slot(counter)] = true;
            return true;
        }

        private static int slot(long counter) {
            return (int) (counter % WINDOW);
        }
    }
}
