package io.sessionagent.agent.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyRingTest {
    @TempDir
    Path dir;
    private int bumps = 1;

    @Test
    void theFirstKeySealsAndEveryKeyOpens() throws Exception {
        KeyRing ring = KeyRing.parse(Keys.fileText(Keys.key(7, 1), Keys.key(3, 1)) + "\n  # trailing comment\n", "f");
        assertThat(ring.sending().id()).isEqualTo(7);
        assertThat(ring.byId(3)).isNotNull();
        assertThat(ring.byId(4)).isNull();
        assertThat(ring.toString()).isEqualTo("keys [7, 3] (sending with 7)");
    }

    @Test
    void aBadFileIsRefusedWithItsLine() {
        assertThatThrownBy(() -> KeyRing.parse("# none\n", "keys.txt"))
                .isInstanceOf(KeyFileException.class).hasMessage("keys.txt: no key in it");
        assertThatThrownBy(() -> KeyRing.parse("\nabc\n", "keys.txt"))
                .hasMessage("keys.txt line 2: expected <id>:<base64 key>");
        assertThatThrownBy(() -> KeyRing.parse("x:AAAA\n", "keys.txt"))
                .hasMessage("keys.txt line 1: key id is not a number");
        assertThatThrownBy(() -> KeyRing.parse("1:!!!\n", "keys.txt"))
                .hasMessage("keys.txt line 1: key is not base64");
        assertThatThrownBy(() -> KeyRing.parse("1:AAAA\n", "keys.txt"))
                .hasMessage("keys.txt line 1: key 1 has 3 bytes; AES keys have 16, 24 or 32");
        assertThatThrownBy(() -> KeyRing.parse("0:" + "A".repeat(22) + "==\n", "keys.txt"))
                .hasMessage("keys.txt line 1: key id 0 must be 1 or more");
        String line = Keys.fileText(Keys.key(2, 1));
        assertThatThrownBy(() -> KeyRing.parse(line + line, "keys.txt"))
                .hasMessage("keys.txt: key id 2 appears twice");
    }

    @Test
    void keyMaterialNeverShowsInText() {
        ClusterKey k = Keys.key(5, 9);
        assertThat(k.toString()).isEqualTo("key 5 (256 bit)");
    }

    @Test
    void aChangedFileIsReadAgainAndABadOneKeepsTheKeysInUse() throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, Keys.fileText(Keys.key(1, 1)));
        ClusterKeys keys = ClusterKeys.load(file);
        assertThat(keys.reloadIfChanged()).isFalse();

        Files.writeString(file, Keys.fileText(Keys.key(2, 1), Keys.key(1, 1)));
        bumpTime(file);
        assertThat(keys.reloadIfChanged()).isTrue();
        assertThat(keys.current().sending().id()).isEqualTo(2);
        assertThat(keys.current().byId(1)).isNotNull();

        Files.writeString(file, "2:@@@@\n");
        bumpTime(file);
        assertThatThrownBy(keys::reloadIfChanged).isInstanceOf(KeyFileException.class)
                .hasMessageContaining("line 1: key is not base64");
        assertThat(keys.current().sending().id()).isEqualTo(2);
        // Reported once: until the file changes again it is not read again.
        assertThat(keys.reloadIfChanged()).isFalse();

        Files.delete(file);
        assertThatThrownBy(keys::reloadIfChanged).isInstanceOf(KeyFileException.class)
                .hasMessageContaining("cannot read key file");
        assertThat(keys.current().sending().id()).isEqualTo(2);
    }

    @Test
    void aMissingFileIsAClearError() {
        assertThatThrownBy(() -> ClusterKeys.load(dir.resolve("absent")))
                .isInstanceOf(KeyFileException.class).hasMessageEndingWith("absent does not exist");
    }

    @Test
    void aKeyFileOthersCanReadIsNoticed() throws Exception {
        Path file = dir.resolve("keys");
        Files.writeString(file, Keys.fileText(Keys.key(1, 1)));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertThat(ClusterKeys.load(file).fileOpenToOthers()).isFalse();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(ClusterKeys.load(file).fileOpenToOthers()).isTrue();
    }

    private void bumpTime(Path file) throws Exception {
        // File times can be coarse: make each change visible whatever the file system's resolution.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(bumps++)));
    }

}
