package io.sessionagent.filter.core.session;

import io.sessionagent.filter.core.FilterSettings;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LocalAttributesTest {
    @Test
    void starMatchesAnyRunAndEverythingElseIsLiteral() {
        LocalAttributes l = LocalAttributes.parse("cache.*,jdbc*, tmpFile ,*Handle,a*b*c");
        assertThat(l.patterns()).containsExactly("cache.*", "jdbc*", "tmpFile", "*Handle", "a*b*c");
        assertThat(l.matchesName("cache.")).isTrue();
        assertThat(l.matchesName("cache.products")).isTrue();
        // The dot is literal, not "any character".
        assertThat(l.matchesName("cacheXproducts")).isFalse();
        assertThat(l.matchesName("cache")).isFalse();
        assertThat(l.matchesName("jdbc")).isTrue();
        assertThat(l.matchesName("jdbcConnection")).isTrue();
        assertThat(l.matchesName("myjdbc")).isFalse();
        assertThat(l.matchesName("tmpFile")).isTrue();
        assertThat(l.matchesName("tmpFile2")).isFalse();
        assertThat(l.matchesName("TMPFILE")).isFalse();
        assertThat(l.matchesName("fileHandle")).isTrue();
        assertThat(l.matchesName("abc")).isTrue();
        assertThat(l.matchesName("aXXbYYc")).isTrue();
        assertThat(l.matchesName("aXXbYY")).isFalse();
        assertThat(l.matchesName("cart")).isFalse();
    }

    @Test
    void regexCharactersInPatternsAreLiteral() {
        LocalAttributes l = LocalAttributes.parse("a+b,(x)|y,[z]*");
        assertThat(l.matchesName("a+b")).isTrue();
        assertThat(l.matchesName("aab")).isFalse();
        assertThat(l.matchesName("(x)|y")).isTrue();
        assertThat(l.matchesName("y")).isFalse();
        assertThat(l.matchesName("[z]1")).isTrue();
        assertThat(l.matchesName("z")).isFalse();
    }

    @Test
    void aLoneStarKeepsEverythingLocalAndBlankKeepsNothing() {
        assertThat(LocalAttributes.parse("*").matchesName("anything")).isTrue();
        assertThat(LocalAttributes.parse(null).matchesName("x")).isFalse();
        assertThat(LocalAttributes.parse(" , ,").patterns()).isEmpty();
        assertThat(LocalAttributes.parse("").matchesName("")).isFalse();
    }

    @Test
    void nodeLocalValuesAreLocalWhateverTheirName() {
        NodeLocal v = new NodeLocal() { };
        assertThat(LocalAttributes.NONE.isLocal("cart", v)).isTrue();
        assertThat(LocalAttributes.NONE.isLocal("cart", "plain")).isFalse();
        assertThat(LocalAttributes.parse("cart").isLocal("cart", "plain")).isTrue();
    }

    @Test
    void initParamIsParsed() {
        Map<String, String> p = new HashMap<>();
        p.put(FilterSettings.ROUTE, "n1");
        assertThat(FilterSettings.parse(p::get, "").localAttributes().patterns()).isEmpty();
        p.put(FilterSettings.LOCAL_ATTRIBUTES, "cache.*,jdbc*,tmpFile");
        FilterSettings s = FilterSettings.parse(p::get, "");
        assertThat(s.localAttributes().matchesName("cache.a")).isTrue();
        // Kept across the copy made for the container's session-config timeout.
        assertThat(s.withMaxInactiveIntervalSeconds(60).localAttributes().matchesName("jdbcX")).isTrue();
        assertThat(s.withMaxInactiveIntervalSeconds(60).localAttributes().matchesName("cart")).isFalse();
    }
}
