package io.sessionagent.agent.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * The agent's current key ring, read from the key file and read again when the file changes, so
 * that a rotation needs no restart: operators edit the file on every node and the agents follow.
 * A file that turns unreadable or invalid keeps the ring that was loaded last.
 */
public final class ClusterKeys {
    private static final Set<PosixFilePermission> OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final Path file;
    private volatile KeyRing ring;
    private FileTime modified;
    private long size;

    private ClusterKeys(Path file, KeyRing ring) {
        this.file = file;
        this.ring = ring;
    }

    /** A fixed ring that never changes (tests, tools). */
    public static ClusterKeys of(KeyRing ring) {
        return new ClusterKeys(null, ring);
    }

    public static ClusterKeys load(Path file) throws KeyFileException {
        ClusterKeys keys = new ClusterKeys(file, null);
        keys.ring = keys.read();
        return keys;
    }

    public KeyRing current() {
        return ring;
    }

    /** The key file, or null for a fixed ring. */
    public Path file() {
        return file;
    }

    /** Whether people other than the file's owner may read or change the key file. */
    public boolean fileOpenToOthers() {
        if (file == null) {
            return false;
        }
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            perms.retainAll(OTHERS);
            return !perms.isEmpty();
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * Reads the file again if its time or size changed.
     *
     * @return true when the ring changed
     * @throws KeyFileException when the changed file cannot be used; the old ring stays
     */
    public synchronized boolean reloadIfChanged() throws KeyFileException {
        if (file == null) {
            return false;
        }
        try {
            if (Files.getLastModifiedTime(file).equals(modified) && Files.size(file) == size) {
                return false;
            }
        } catch (IOException e) {
            throw new KeyFileException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
        KeyRing next = read();
        if (next.sameAs(ring)) {
            return false;
        }
        ring = next;
        return true;
    }

    private KeyRing read() throws KeyFileException {
        try {
            // Time and size before the content: a write racing this read is seen again next time,
            // and a bad file is reported once, not at every check, until it changes again.
            modified = Files.getLastModifiedTime(file);
            size = Files.size(file);
            return KeyRing.parse(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
        } catch (NoSuchFileException e) {
            throw new KeyFileException("key file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new KeyFileException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
    }
}
