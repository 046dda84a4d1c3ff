package io.sessionagent.filter.core.session;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.metrics.FilterCounters;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class SessionDataTest {
    private final AttributeCodec codec =
            new AttributeCodec(getClass().getClassLoader(), 1 << 20, new FilterCounters());

    /** A session as after its first request: cart and user replicated at version 1. */
    private SessionData replicatedSession(SaveMode mode) {
        SessionData s = new SessionData("id", 0, 0, 1800, true);
        s.setAttribute("cart", new ArrayList<>(List.of("apple")));
        s.setAttribute("user", "ann");
        SessionData.Delta first = s.takeDelta(mode, codec, null, 0, LocalAttributes.NONE);
        assertThat(first.setNames()).containsExactlyInAnyOrder("cart", "user");
        assertThat(first.meta).isTrue();
        s.handedOff(first, true);
        s.acknowledged(first.baseVersion, 1);
        return s;
    }

    @SuppressWarnings("unchecked")
    private static void requestThatMutatesCartAndReadsUser(SessionData s) {
        ((List<String>) s.getAttribute("cart")).add("pear");
        s.getAttribute("user");
    }

    @Test
    void defaultModeSendsReadAttributesWhoseBytesChanged() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        requestThatMutatesCartAndReadsUser(s);
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).containsExactly("cart");
        assertThat(d.baseVersion).isEqualTo(1);
        assertThat(codec.deserialize(d.set.get("cart"))).isEqualTo(List.of("apple", "pear"));
        s.handedOff(d, true);
        s.acknowledged(d.baseVersion, 2);

        // Read again without change: nothing to send, a pure access.
        s.getAttribute("cart");
        assertThat(s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE).isEmpty()).isTrue();
    }

    @Test
    void setModeSendsOnlySetAndRemoved() {
        SessionData s = replicatedSession(SaveMode.SET);
        requestThatMutatesCartAndReadsUser(s);
        s.setAttribute("counter", 1);
        s.removeAttribute("user");
        SessionData.Delta d = s.takeDelta(SaveMode.SET, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).containsExactly("counter");
        assertThat(d.removedNames()).containsExactly("user");
    }

    @Test
    void alwaysModeSendsEveryAttributeRead() {
        SessionData s = replicatedSession(SaveMode.ALWAYS);
        s.getAttribute("user");
        SessionData.Delta d = s.takeDelta(SaveMode.ALWAYS, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).containsExactly("user");
    }

    @Test
    void setThenRemovedInOneRequestIsARemovalOnly() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        s.setAttribute("user", "bob");
        s.removeAttribute("user");
        s.setAttribute("fresh", "x");
        s.removeAttribute("fresh");
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).isEmpty();
        // "fresh" never reached the agent, so there is nothing to remove there.
        assertThat(d.removedNames()).containsExactly("user");
    }

    @Test
    void unserializableValueIsLeftOutAndItsStaleCopyRemoved() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        s.setAttribute("user", new Thread());
        s.setAttribute("worker", new Thread());
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).isEmpty();
        assertThat(d.removedNames()).containsExactly("user");
    }

    @Test
    void wholeSessionWriteRemovesWhatOnlyTheAgentHolds() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        s.failed();
        assertThat(s.needsFullSync()).isTrue();
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, Set.of("cart", "gone"), 7, LocalAttributes.NONE);
        assertThat(d.setNames()).containsExactlyInAnyOrder("cart", "user");
        assertThat(d.removedNames()).containsExactly("gone");
        assertThat(d.baseVersion).isEqualTo(7);
        s.handedOff(d, true);
        s.acknowledged(d.baseVersion, 8);
        assertThat(s.needsFullSync()).isFalse();
        assertThat(s.version()).isEqualTo(8);
    }

    /** A value that must stay on the node that created it. */
    static final class LocalCache implements NodeLocal {
        final List<String> entries = new ArrayList<>(List.of("a"));
    }

    @Test
    void nodeLocalAttributesNeverEnterADeltaAndAreNotSkipped() {
        FilterCounters counters = new FilterCounters();
        AttributeCodec counting = new AttributeCodec(getClass().getClassLoader(), 1 << 20, counters);
        LocalAttributes local = LocalAttributes.parse("cache.*, jdbc*,tmpFile");
        SessionData s = new SessionData("id", 0, 0, 1800, true);
        s.setAttribute("cart", "x");
        s.setAttribute("cache.products", List.of("p"));
        s.setAttribute("jdbcHandle", "h");
        s.setAttribute("tmpFile", "/tmp/f");
        s.setAttribute("anyName", new LocalCache());
        // Unserializable and node-local by name: not serialized at all, so not counted as skipped.
        s.setAttribute("cache.worker", new Thread());
        SessionData.Delta d = s.takeDelta(SaveMode.ALWAYS, counting, null, 0, local);
        assertThat(d.setNames()).containsExactly("cart");
        assertThat(d.removedNames()).isEmpty();
        assertThat(counters.get(FilterCounter.SKIPPED_ATTRIBUTES)).isZero();
        assertThat(counters.get(FilterCounter.SERIALIZATIONS)).isEqualTo(1);
        s.handedOff(d, true);
        s.acknowledged(d.baseVersion, 1);

        // Read and mutated in place: still nothing to send in any save mode.
        ((LocalCache) s.getAttribute("anyName")).entries.add("b");
        s.getAttribute("cache.products");
        for (SaveMode mode : SaveMode.values()) {
            assertThat(s.takeDelta(mode, counting, null, 0, local).setNames()).isEmpty();
        }
        // The local values are still in the local session.
        assertThat(s.attributeNameSet()).contains("cache.products", "jdbcHandle", "tmpFile", "anyName", "cache.worker");
        // A node-local attribute removed was never at the agent: no removal travels either.
        s.removeAttribute("tmpFile");
        assertThat(s.takeDelta(SaveMode.ON_READ_CHANGE, counting, null, 0, local).isEmpty()).isTrue();
    }

    @Test
    void aReplicatedValueReplacedByANodeLocalOneIsRemovedAtTheAgent() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        s.setAttribute("user", new LocalCache());
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE);
        assertThat(d.setNames()).isEmpty();
        assertThat(d.removedNames()).containsExactly("user");
        s.handedOff(d, true);
        s.acknowledged(d.baseVersion, 2);
        // Back to an ordinary value: replicated again.
        s.setAttribute("user", "ann");
        assertThat(s.takeDelta(SaveMode.ON_READ_CHANGE, codec, null, 0, LocalAttributes.NONE).setNames())
                .containsExactly("user");
    }

    @Test
    void wholeSessionWriteLeavesNodeLocalOutAndRemovesTheirStaleCopies() {
        SessionData s = replicatedSession(SaveMode.ON_READ_CHANGE);
        s.setAttribute("cache.x", "local");
        s.failed();
        // The agent holds "cache.x" from a deployment that replicated it.
        SessionData.Delta d = s.takeDelta(SaveMode.ON_READ_CHANGE, codec, Set.of("cart", "user", "cache.x"), 3,
                LocalAttributes.parse("cache.*"));
        assertThat(d.full).isTrue();
        assertThat(d.setNames()).containsExactlyInAnyOrder("cart", "user");
        assertThat(d.removedNames()).containsExactly("cache.x");
    }
}
