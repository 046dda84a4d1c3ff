package io.sessionagent.agent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A shared secret in a file: its first line without surrounding blanks, long enough not to be guessed. */
public final class TokenFile {
    /** 32 characters of base64 are 192 bits. */
    public static final int MIN_CHARS = 32;

    private TokenFile() {
    }

    /**
     * @param setting the setting that names the file, for the message
     * @throws IOException when the file cannot be read or holds no usable token; the message says how to make one
     */
    public static String read(Path file, String setting) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException(setting + " " + file + " cannot be read: " + e.getMessage(), e);
        }
        String token = lines.isEmpty() ? "" : lines.get(0).strip();
        if (token.length() < MIN_CHARS) {
            throw new IOException(setting + " " + file + " must hold a token of at least " + MIN_CHARS
                    + " characters on its first line (e.g. head -c 32 /dev/urandom | base64 > " + file + ")");
        }
        return token;
    }
}
