package io.sessionagent.filter.core.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The filter core's packages are layers: each refers only to the ones below it, so none can be in
 * a cycle and each can be read knowing only what lies beneath. A new package must be given its
 * place here. Read from the sources, so that a fully qualified name in code or a {@code {@link}}
 * counts as much as an import.
 */
class PackageLayersTest {
    /** Top first: the base package (what the servlet adapters call) down to the counters everyone bumps. */
    static final List<String> LAYERS = List.of("(base)", "agent", "session", "codec", "metrics");

    private static final Path SOURCES = Path.of("src", "main", "java", "io", "sessionagent", "filter", "core");
    /** A reference to a class of a subpackage, or of the base package itself (a capitalised name). */
    private static final Pattern REFERENCE = Pattern.compile(
            "\\bio\\.sessionagent\\.filter\\.core\\.(?:([a-z][a-z0-9]*)\\.)?[A-Z]");

    @Test
    void everyPackageRefersOnlyToTheLayersBelowIt() {
        Map<String, Set<String>> graph = graphOf(SOURCES);
        assertThat(graph.keySet()).as("packages read").containsExactlyInAnyOrderElementsOf(LAYERS);
        assertThat(upwardReferences(graph, LAYERS)).as("references up or across the layers in " + graph).isEmpty();
    }

    @Test
    void aReferenceUpwardsIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", new TreeSet<>(Set.of("b", "c")));
        graph.put("b", new TreeSet<>(Set.of("c")));
        graph.put("c", new TreeSet<>(Set.of("a")));
        graph.put("d", new TreeSet<>());
        assertThat(upwardReferences(graph, List.of("a", "b", "c")))
                .containsExactly("c -> a", "d is in no layer");
    }

    /** Package (relative to the base, {@code (base)} for the base itself) → the packages it refers to. */
    static Map<String, Set<String>> graphOf(Path root) {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Path dir = root.relativize(f.getParent());
                String pkg = dir.toString().isEmpty() ? "(base)" : dir.toString().replace('/', '.');
                Set<String> refs = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(Files.readString(f));
                while (m.find()) {
                    String target = m.group(1) == null ? "(base)" : m.group(1);
                    if (!target.equals(pkg)) {
                        refs.add(target);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return graph;
    }

    /** Each reference from a package to one not strictly below it, and each package given no layer. */
    static List<String> upwardReferences(Map<String, Set<String>> graph, List<String> layers) {
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : graph.entrySet()) {
            int from = layers.indexOf(e.getKey());
            if (from < 0) {
                wrong.add(e.getKey() + " is in no layer");
                continue;
            }
            for (String to : e.getValue()) {
                if (layers.indexOf(to) <= from) {
                    wrong.add(e.getKey() + " -> " + to);
                }
            }
        }
        return wrong;
    }
}
