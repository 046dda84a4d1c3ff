package io.sessionagent.sample;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The javax and jakarta WARs run the same servlet: the copies differ only in the servlet package. */
class SameServletTest {
    @Test
    void theJavaxServletIsTheJakartaOneWithJavaxImports() throws Exception {
        Path rel = Path.of("src", "main", "java", "io", "sessionagent", "sample", "SampleServlet.java");
        String jakarta = Files.readString(Path.of("..", "jakarta").resolve(rel));
        String javax = Files.readString(rel);
        assertThat(jakarta).contains("import jakarta.servlet.http.HttpServlet;");
        assertThat(javax).isEqualTo(jakarta.replace("jakarta.servlet", "javax.servlet"));
    }
}
