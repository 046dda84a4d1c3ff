package io.sessionagent.agent.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A CA and certificates it signs, made with the openssl command line in a directory of the test's. */
public final class TestCertificates {
    private final Path dir;

    /** A certificate, its key (PKCS#8) and the CA that signed it, as PEM files. */
    public record Issued(Path cert, Path key, Path ca) {
    }

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Skips the test where openssl is missing, but never under CI, which installs it. */
    public static TestCertificates in(Path dir) {
        boolean present = Files.isExecutable(Path.of("/usr/bin/openssl"))
                || Files.isExecutable(Path.of("/usr/local/bin/openssl"));
        if (System.getenv("CI") != null && !present) {
            throw new AssertionError("openssl is required under CI");
        }
        assumeTrue(present, "openssl is not installed");
        return new TestCertificates(dir);
    }

    /** A self-signed CA named {@code name}. */
    public void ca(String name) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", file(name + ".key"), "-out", file(name + ".pem"), "-days", "2", "-subj", "/CN=" + name);
    }

    /** A certificate for {@code ip} signed by CA {@code ca}. */
    public Issued issue(String ca, String name, String ip) throws IOException, InterruptedException {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", file(name + ".key"), "-out", file(name + ".csr"), "-subj", "/CN=" + name);
        Path ext = dir.resolve(name + ".ext");
        Files.writeString(ext, "subjectAltName=IP:" + ip + "\n");
        openssl("x509", "-req", "-in", file(name + ".csr"), "-CA", file(ca + ".pem"), "-CAkey", file(ca + ".key"),
                "-CAcreateserial", "-out", file(name + ".pem"), "-days", "2", "-extfile", ext.toString());
        return new Issued(dir.resolve(name + ".pem"), dir.resolve(name + ".key"), dir.resolve(ca + ".pem"));
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
