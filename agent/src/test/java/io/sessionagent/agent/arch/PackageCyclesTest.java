package io.sessionagent.agent.arch;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
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
 * The agent's packages depend on each other one way only: a cycle would let a change in any of
 * its packages ripple through all of them. Read from the sources, so that a fully qualified name
 * in code or a {@code {@link}} counts as much as an import.
 */
class PackageCyclesTest {
    private static final String BASE = "io.sessionagent.agent";
    private static final Path SOURCES = Path.of("src", "main", "java", "io", "sessionagent", "agent");
    /** A reference to a class of a subpackage, or of the base package itself (a capitalised name). */
    private static final Pattern REFERENCE = Pattern.compile(
            "\\bio\\.sessionagent\\.agent\\.(?:([a-z][a-z0-9]*)\\.)?[A-Z]");

    @Test
    void theAgentsPackagesFormNoCycle() {
        Map<String, Set<String>> graph = graphOf(SOURCES);
        assertThat(graph).as("packages read").containsKeys("replication", "store", "transport", "(base)");
        assertThat(cycles(graph)).as("package cycles in " + graph).isEmpty();
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", new TreeSet<>(Set.of("b")));
        graph.put("b", new TreeSet<>(Set.of("c")));
        graph.put("c", new TreeSet<>(Set.of("a", "d")));
        graph.put("d", new TreeSet<>());
        assertThat(cycles(graph)).containsExactly(List.of("a", "b", "c"));
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

    /** The strongly connected components of more than one package (Tarjan), each sorted. */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<List<String>> found = new ArrayList<>();
        int[] next = {0};
        for (String p : graph.keySet()) {
            if (!index.containsKey(p)) {
                connect(p, graph, index, low, stack, onStack, found, next);
            }
        }
        return found;
    }

    private static void connect(String p, Map<String, Set<String>> graph, Map<String, Integer> index,
                                Map<String, Integer> low, Deque<String> stack, Set<String> onStack,
                                List<List<String>> found, int[] next) {
        index.put(p, next[0]);
        low.put(p, next[0]);
        next[0]++;
        stack.push(p);
        onStack.add(p);
        for (String q : graph.getOrDefault(p, Set.of())) {
            if (!index.containsKey(q)) {
                connect(q, graph, index, low, stack, onStack, found, next);
                low.put(p, Math.min(low.get(p), low.get(q)));
            } else if (onStack.contains(q)) {
                low.put(p, Math.min(low.get(p), index.get(q)));
            }
        }
        if (low.get(p).equals(index.get(p))) {
            TreeSet<String> component = new TreeSet<>();
            String q;
            do {
                q = stack.pop();
                onStack.remove(q);
                component.add(q);
            } while (!q.equals(p));
            if (component.size() > 1) {
                found.add(List.copyOf(component));
            }
        }
    }
}
