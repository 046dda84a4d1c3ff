package io.sessionagent.filter.jakarta;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Calls to Servlet API methods newer than the version this adapter is compiled against, made
 * only when the running container has them, so that the same jar loads on the oldest container.
 */
final class ServletApi {
    private ServletApi() {
    }

    static Method find(Class<?> type, String name, Class<?>... params) {
        try {
            return type.getMethod(name, params);
        } catch (NoSuchMethodException | SecurityException e) {
            return null;
        }
    }

    /**
     * @param api the public API type that declares the method: the target's own class may not
     *            be public, and a method found through it could not be invoked
     * @throws UnsupportedOperationException when the container lacks the method
     */
    static Object call(Class<?> api, Object target, String name, Class<?>[] params, Object... args) {
        Method m = find(api, name, params);
        if (m == null) {
            throw new UnsupportedOperationException(name + " needs a newer Servlet API than "
                    + target.getClass().getName() + " offers");
        }
        try {
            return m.invoke(target, args);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            Throwable t = e.getCause();
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            throw new IllegalStateException(t);
        }
    }
}
