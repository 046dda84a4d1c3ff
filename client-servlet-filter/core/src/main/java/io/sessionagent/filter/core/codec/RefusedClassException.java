package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.KryoException;

/**
 * A value holds (or its bytes name) a class that {@link ClassAllowList} does not allow; thrown
 * before anything of that class is instantiated.
 */
public final class RefusedClassException extends KryoException {
    private static final long serialVersionUID = 1L;
    private final String className;

    RefusedClassException(String className) {
        super("class " + className + " is not allowed in session attributes (init-param "
                + ClassAllowList.INIT_PARAM + ")");
        this.className = className;
    }

    public String className() {
        return className;
    }

    /** The refusal behind {@code t}, if it is or wraps one. */
    public static RefusedClassException in(Throwable t) {
        for (int depth = 0; t != null && depth < 20; depth++, t = t.getCause()) {
            if (t instanceof RefusedClassException) {
                return (RefusedClassException) t;
            }
        }
        return null;
    }
}
