package io.sessionagent.filter.core;

import io.sessionagent.filter.core.metrics.FilterCounter;
import io.sessionagent.filter.core.agent.AgentClientTest;
import io.sessionagent.filter.core.codec.AttributeCodec;
import io.sessionagent.filter.core.metrics.FilterCounters;
import io.sessionagent.filter.core.session.SessionData;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * on-read-change with values whose serialized form is not the same in two JVMs: a HashSet of
 * objects hashed by identity iterates in another order once decoded elsewhere, and so do maps
 * keyed by them. A session restored from the agent must not resend such a value on every request
 * that only reads it (the bytes differ from the agent's without any change), and a real change in
 * place must still be sent. Two session managers against one scripted agent stand for two nodes.
 */
class ChangeDetectionTest {
    /** A cart line without equals or hashCode: hashed by identity, so placed anew in each JVM's HashSet. */
    static final class Item implements Serializable {
        private static final long serialVersionUID = 1L;
        final String name;

        Item(String name) {
            this.name = name;
        }
    }

    /** Items behind a writeObject: the codec sends the whole value through Java serialization. */
    static final class Basket implements Serializable {
        private static final long serialVersionUID = 1L;
        final Set<Item> items = new HashSet<>();

        private void writeObject(ObjectOutputStream out) throws IOException {
            out.defaultWriteObject();
        }
    }

    private static SessionManager node(int port, String route) {
        FilterSettings settings = FilterSettings.parse(name -> switch (name) {
            case FilterSettings.AGENT_ADDRESS -> "127.0.0.1:" + port;
            case FilterSettings.ROUTE -> route;
            case FilterSettings.REPLICATION_MODE -> "sync";
            default -> null;
        }, "");
        return new SessionManager(settings, ChangeDetectionTest.class.getClassLoader(), new AgentClientTest.NoEvents(),
                System::currentTimeMillis);
    }

    private static Set<String> setNames(List<SessionChange> changes) {
        return changes.stream().flatMap(c -> c.getSetList().stream()).map(Attribute::getName).collect(Collectors.toSet());
    }

    private static byte[] agentBytes(ScriptedAgent agent, String id, String name) {
        return agent.session(id).getAttributesList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .orElseThrow().getValue().toByteArray();
    }

    @Test
    void aRestoredHashOrderedValueThatIsOnlyReadIsNotResentAndAChangeInPlaceIs() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node1 = node(agent.port(), "node1");
             SessionManager node2 = node(agent.port(), "node2")) {
            SessionData s = node1.create();
            Set<Item> cart = Collections.synchronizedSet(new HashSet<>());
            Map<Item, Integer> quantities = new HashMap<>();
            for (int i = 0; i < 40; i++) {
                Item item = new Item("item" + i);
                cart.add(item);
                quantities.put(item, i);
            }
            s.setAttribute("cart", cart);
            s.setAttribute("quantities", quantities);
            s.setAttribute("days", new EnumMap<>(Map.of(TimeUnit.DAYS, 1, TimeUnit.HOURS, 2)));
            Basket basket = new Basket();
            for (int i = 0; i < 40; i++) {
                basket.items.add(new Item("basket" + i));
            }
            s.setAttribute("basket", basket);
            node1.commit(s);
            assertThat(agent.session(s.id()).getAttributesCount()).isEqualTo(4);

            // The user fails over to node 2, which decodes the session.
            SessionData restored = node2.find(s.id() + ".node1").session();
            @SuppressWarnings("unchecked")
            Set<Item> cart2 = (Set<Item>) restored.getAttribute("cart");
            assertThat(cart2).hasSize(40);
            // The premise: node 2's own encoding of the same cart differs from node 1's bytes.
            AttributeCodec codec = new AttributeCodec(getClass().getClassLoader(), 1 << 20, new FilterCounters());
            assertThat(Arrays.equals(codec.serialize("cart", cart2), agentBytes(agent, s.id(), "cart")))
                    .as("the iteration order of identity-hashed items differs between the two copies").isFalse();

            int before = agent.received().size();
            for (int request = 0; request < 3; request++) {
                restored.getAttribute("cart");
                restored.getAttribute("quantities");
                restored.getAttribute("days");
                restored.getAttribute("basket");
                node2.commit(restored);
            }
            assertThat(setNames(agent.received().subList(before, agent.received().size())))
                    .as("values only read are not resent").isEmpty();

            // A real change in place, without setAttribute, is sent.
            ((Set<Item>) restored.getAttribute("cart")).add(new Item("item40"));
            node2.commit(restored);
            List<SessionChange> after = agent.received().subList(before, agent.received().size());
            assertThat(setNames(after)).containsExactly("cart");
            @SuppressWarnings("unchecked")
            Set<Item> atAgent = (Set<Item>) codec.deserialize(agentBytes(agent, s.id(), "cart"));
            assertThat(atAgent.stream().map(i -> i.name)).hasSize(41).contains("item40");

            // The same for a value that travels through Java serialization.
            int beforeBasket = agent.received().size();
            ((Basket) restored.getAttribute("basket")).items.add(new Item("basket40"));
            node2.commit(restored);
            assertThat(setNames(agent.received().subList(beforeBasket, agent.received().size())))
                    .containsExactly("basket");
            assertThat(((Basket) codec.deserialize(agentBytes(agent, s.id(), "basket"))).items).hasSize(41);

            // And reading them again afterwards sends nothing more.
            int sent = agent.received().size();
            restored.getAttribute("cart");
            restored.getAttribute("basket");
            node2.commit(restored);
            assertThat(setNames(agent.received().subList(sent, agent.received().size()))).isEmpty();
            assertThat(node2.counters().get(FilterCounter.DESERIALIZE_FAILURES)).isZero();
        }
    }

    @Test
    void onTheWritingNodeAHashOrderedValueOnlyReadIsNotResentEither() throws Exception {
        try (ScriptedAgent agent = new ScriptedAgent(0); SessionManager node1 = node(agent.port(), "node1")) {
            SessionData s = node1.create();
            Set<Item> cart = Collections.synchronizedSet(new HashSet<>());
            for (int i = 0; i < 40; i++) {
                cart.add(new Item("item" + i));
            }
            s.setAttribute("cart", cart);
            node1.commit(s);
            int before = agent.received().size();
            for (int request = 0; request < 3; request++) {
                s.getAttribute("cart");
                node1.commit(s);
            }
            assertThat(setNames(agent.received().subList(before, agent.received().size()))).isEmpty();
            cart.remove(cart.iterator().next());
            s.getAttribute("cart");
            node1.commit(s);
            assertThat(setNames(agent.received().subList(before, agent.received().size()))).containsExactly("cart");
        }
    }
}
