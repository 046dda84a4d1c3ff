package io.sessionagent.agent.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/** Reads the configuration file: a flat YAML map of setting names to scalar values. */
final class YamlFile {

    private YamlFile() {}

    /**
     * The entries of the file as text, in file order. Problems with the file as a whole or with
     * single entries are added to {@code problems}; the entries that are fine are still returned.
     */
    static Map<String, String> read(Path path, List<String> problems) {
        Map<String, String> entries = new LinkedHashMap<>();
        LoaderOptions options = new LoaderOptions();
        // A key given twice is almost always an editing mistake; silently taking one hides it.
        options.setAllowDuplicateKeys(false);
        Yaml yaml = new Yaml(new SafeConstructor(options));
        Object document;
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            document = yaml.load(reader);
        } catch (NoSuchFileException e) {
            problems.add("config file " + path + ": not found");
            return entries;
        } catch (IOException e) {
            problems.add("config file " + path + ": cannot be read: " + e);
            return entries;
        } catch (YAMLException e) {
            problems.add("config file " + path + ": not valid YAML: " + e.getMessage().replace('\n', ' '));
            return entries;
        }
        if (document == null) {
            return entries;
        }
        if (!(document instanceof Map<?, ?> map)) {
            problems.add("config file " + path + ": must be a map of setting names to values, not a "
                    + describe(document));
            return entries;
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object value = e.getValue();
            if (value instanceof Map || value instanceof List) {
                problems.add("config file " + path + ": " + key + " must be a single value, not a "
                        + describe(value) + " (the file is a flat map of setting names)");
            } else {
                entries.put(key, value == null ? "" : scalar(value));
            }
        }
        return entries;
    }

    private static String scalar(Object value) {
        if (value instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) {
            return Long.toString(d.longValue());
        }
        return String.valueOf(value);
    }

    private static String describe(Object value) {
        if (value instanceof Map) {
            return "map";
        }
        if (value instanceof List) {
            return "list";
        }
        return "single value";
    }
}
