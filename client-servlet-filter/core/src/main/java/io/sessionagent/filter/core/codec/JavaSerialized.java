package io.sessionagent.filter.core.codec;

/**
 * An attribute value written whole with Java serialization inside the codec's Kryo stream: a
 * value that Kryo could not carry, or part of which needs Java serialization (so that objects it
 * shares between its parts keep one identity, as Java serialization keeps them).
 */
final class JavaSerialized {
    final Object value;

    JavaSerialized(Object value) {
        this.value = value;
    }
}
