package io.sessionagent.agent.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AttributeNamesTest {
    @Test
    void equalNamesComeBackAsOneInstance() {
        AttributeNames names = new AttributeNames();
        String first = new String("cart");

        assertThat(names.canonical(first)).isSameAs(first);
        assertThat(names.canonical(new String("cart"))).isSameAs(first);
        assertThat(names.canonical(new String("user"))).isNotSameAs(first).isEqualTo("user");
        assertThat(names.size()).isEqualTo(2);
    }

    @Test
    void pastTheLimitNamesAreKeptAsTheyCome() {
        AttributeNames names = new AttributeNames();
        for (int i = 0; i < AttributeNames.MAX_NAMES; i++) {
            names.canonical("name-" + i);
        }
        String late = new String("late");

        assertThat(names.canonical(late)).isSameAs(late);
        assertThat(names.canonical(new String("late"))).isNotSameAs(late).isEqualTo("late");
        assertThat(names.canonical(new String("name-7"))).isEqualTo("name-7");
        assertThat(names.size()).isEqualTo(AttributeNames.MAX_NAMES);
    }
}
