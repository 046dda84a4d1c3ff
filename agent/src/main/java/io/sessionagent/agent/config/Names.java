package io.sessionagent.agent.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/** Finds the known setting names closest to a misspelt one, for "did you mean" hints. */
final class Names {

    private Names() {}

    /**
     * The names that the input most likely meant: an exact match once case, underscores and
     * camelCase are normalised; else names containing the input; else the nearest by edit
     * distance, when near enough to be a plausible typo. Empty when nothing is close.
     */
    static List<String> closest(String input, Collection<String> known) {
        String n = normalise(input);
        if (n.isEmpty()) {
            return List.of();
        }
        if (known.contains(n)) {
            return List.of(n);
        }
        List<String> containing = new ArrayList<>();
        if (n.length() >= 4) {
            for (String k : known) {
                if (k.contains(n)) {
                    containing.add(k);
                }
            }
        }
        if (!containing.isEmpty()) {
            return containing.size() <= 3 ? containing : containing.subList(0, 3);
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(n, k);
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        if (best != null && bestDistance <= Math.max(2, best.length() / 3)) {
            return List.of(best);
        }
        return List.of();
    }

    /** A hint such as " (did you mean --grpc-port?)", or empty. */
    static String hint(String input, Collection<String> known, String prefix, boolean upperSnake) {
        List<String> candidates = closest(input, known);
        if (candidates.isEmpty()) {
            return "";
        }
        List<String> shown = new ArrayList<>();
        for (String c : candidates) {
            shown.add(upperSnake ? Setting.envVariableFor(c) : prefix + c);
        }
        return candidates.size() == 1
                ? " (did you mean " + shown.get(0) + "?)"
                : " (did you mean one of " + String.join(", ", shown) + "?)";
    }

    static String normalise(String input) {
        StringBuilder sb = new StringBuilder();
        String s = input.trim();
        if (s.toUpperCase(Locale.ROOT).startsWith(ConfigLoader.ENV_PREFIX)) {
            s = s.substring(ConfigLoader.ENV_PREFIX.length());
        }
        while (s.startsWith("-")) {
            s = s.substring(1);
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '_' || c == ' ' || c == '.') {
                sb.append('-');
            } else if (Character.isUpperCase(c) && i > 0 && Character.isLowerCase(s.charAt(i - 1))) {
                sb.append('-').append(Character.toLowerCase(c));
            } else {
                sb.append(Character.toLowerCase(c));
            }
        }
        return sb.toString();
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
