package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.SessionManager;
import io.sessionagent.filter.javax.servlet30.DirectAsyncCall;
import io.sessionagent.filter.javax.servlet30.WrappedAsyncCall;

import org.codehaus.mojo.animal_sniffer.SignatureBuilder;
import org.codehaus.mojo.animal_sniffer.SignatureChecker;
import org.codehaus.mojo.animal_sniffer.logging.Logger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The adapter links to Servlet 2.5 alone (Tomcat 6, Jetty 6), checked with animal-sniffer against
 * the Servlet 2.5 signature the build makes (session-agent-servlet25-signature) merged with the
 * Java 8 one. The build's servlet25-api execution checks every reference to a Servlet API type; it
 * takes the module's own classes as known, so a 3.0 method called through the filter's own request
 * wrapper would pass it. This check also puts the adapter's and the core's classes into the
 * signature, so that such a call is looked up through the wrapper's superclasses to the 2.5 API.
 * Classes marked {@link Servlet30} are skipped as in the build: the filter loads them only where
 * the container has Servlet 3.0.
 */
class Servlet25ApiTest {
    /** Java 8 + Servlet 2.5 + the adapter's, the core's and the fixtures' classes: built once, it takes seconds. */
    private static byte[] signature;

    @BeforeAll
    static void mergeSignatures() throws Exception {
        ByteArrayOutputStream merged = new ByteArrayOutputStream();
        try (InputStream servlet25 = Files.newInputStream(signature("servlet25.signature"));
             InputStream java8 = Files.newInputStream(signature("java8.signature"))) {
            SignatureBuilder builder = new SignatureBuilder(new InputStream[] {servlet25, java8}, merged,
                    new CollectingLogger(new ArrayList<>()));
            builder.process(classesOf(SessionReplicationFilter.class).toFile());
            builder.process(classesOf(SessionManager.class).toFile());
            builder.process(classesOf(DirectAsyncCall.class).resolve("io/sessionagent/filter/javax/servlet30").toFile());
            builder.close();
        }
        signature = merged.toByteArray();
    }

    @Test
    void theAdapterLinksToServlet25Only() throws Exception {
        Check check = check(classesOf(SessionReplicationFilter.class));
        assertThat(check.errors).isEmpty();
        assertThat(check.broken).isFalse();
    }

    @Test
    void aServlet30CallOnAServletApiTypeFailsTheCheck() throws Exception {
        Check check = check(classFileOf(DirectAsyncCall.class));
        assertThat(check.broken).isTrue();
        assertThat(check.errors).anySatisfy(e -> assertThat(e)
                .contains("DirectAsyncCall").contains("javax.servlet.ServletRequest.isAsyncStarted()"));
    }

    @Test
    void aServlet30CallThroughAnOwnRequestWrapperFailsTheCheck() throws Exception {
        Check check = check(classFileOf(WrappedAsyncCall.class));
        assertThat(check.broken).isTrue();
        assertThat(check.errors).anySatisfy(e -> assertThat(e)
                .contains("WrappedAsyncCall").contains("isAsyncStarted()"));
    }

    @Test
    void theAsyncListenerIsServlet30AndOnlyItsMarkKeepsItOutOfTheCheck() throws Exception {
        Path asyncCompletion = classFileOf(AsyncCompletion.class);
        assertThat(check(asyncCompletion, Collections.emptyList()).errors)
                .anySatisfy(e -> assertThat(e).contains("javax.servlet.AsyncContext"));
        assertThat(check(asyncCompletion).errors).isEmpty();
    }

    private static final class Check {
        final List<String> errors = new ArrayList<>();
        boolean broken;
    }

    private static Check check(Path checked) throws IOException {
        return check(checked, Collections.singletonList(Servlet30.class.getName()));
    }

    /** Checks {@code checked} (a class file or a directory) as the build's servlet25-api execution does, and through own classes too. */
    private static Check check(Path checked, List<String> skipMarks) throws IOException {
        Check check = new Check();
        // Servlet 3.1, as in the pom: HttpSessionIdListener is linked only from SessionIdListeners once
        // it found the interface present; WriteListener only names the parameter of a 3.1 method.
        SignatureChecker checker = new SignatureChecker(new ByteArrayInputStream(signature),
                new HashSet<>(Arrays.asList("javax.servlet.http.HttpSessionIdListener", "javax.servlet.WriteListener")),
                new CollectingLogger(check.errors));
        checker.setSourcePath(Collections.emptyList());
        checker.setAnnotationTypes(skipMarks);
        checker.process(checked.toFile());
        check.broken = checker.isSignatureBroken();
        return check;
    }

    private static Path signature(String property) {
        String path = System.getProperty(property);
        assertThat(path).as("system property " + property + " (set by the pom from the dependency's path)").isNotBlank();
        return Paths.get(path);
    }

    private static Path classesOf(Class<?> c) throws URISyntaxException {
        return Paths.get(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static Path classFileOf(Class<?> c) throws URISyntaxException {
        return classesOf(c).resolve(c.getName().replace('.', File.separatorChar) + ".class");
    }

    private static final class CollectingLogger implements Logger {
        private final List<String> errors;

        CollectingLogger(List<String> errors) {
            this.errors = errors;
        }

        @Override
        public void info(String message) {
        }

        @Override
        public void info(String message, Throwable t) {
        }

        @Override
        public void debug(String message) {
        }

        @Override
        public void debug(String message, Throwable t) {
        }

        @Override
        public void warn(String message) {
            errors.add(message);
        }

        @Override
        public void warn(String message, Throwable t) {
            errors.add(message);
        }

        @Override
        public void error(String message) {
            errors.add(message);
        }

        @Override
        public void error(String message, Throwable t) {
            errors.add(message);
        }
    }
}
