package io.sessionagent.filter.javax;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a class that links to Servlet 3.0 types. The build's Servlet 2.5 API check skips it (the
 * {@code servlet25-api} execution of animal-sniffer in this module's pom), so the filter must
 * load it only after finding the running container has those types; every other class of the
 * adapter links to Servlet 2.5 alone, so that the jar runs on Tomcat 6 and Jetty 6.
 */
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
@interface Servlet30 {
}
