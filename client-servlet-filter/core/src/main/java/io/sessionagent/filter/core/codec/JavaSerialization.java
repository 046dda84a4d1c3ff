package io.sessionagent.filter.core.codec;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.util.Arrays;

/**
 * Java serialization of one object, as the codec's fallback: written into a byte array of bounded
 * size, read with every class checked against the allow-list in {@code resolveClass}, which
 * {@link ObjectInputStream} calls for each class descriptor before it instantiates anything of
 * that class, and resolved in the web application's class loader. Works on Java 8, where
 * {@code ObjectInputFilter} does not exist.
 */
final class JavaSerialization {
    private JavaSerialization() {
    }

    /**
     * @throws KryoBufferOverflowException past {@code maxBytes}
     * @throws KryoException when Java serialization refuses the object (NotSerializableException...)
     * @throws RefusedClassException when the object holds a class the allow-list refuses, which
     *         the reading node would refuse
     */
    static byte[] write(Object value, int maxBytes, ClassCheck check) {
        Bounded out = new Bounded(maxBytes);
        try (ObjectOutputStream oos = new CheckedOut(out, check)) {
            oos.writeObject(value);
        } catch (IOException e) {
            throw new KryoException("Java serialization failed: " + e, e);
        }
        return out.toByteArray();
    }

    /**
     * @throws RefusedClassException when the stream names a class the allow-list refuses
     * @throws KryoException when the bytes cannot be read back here
     */
    static Object read(byte[] bytes, ClassCheck check, ClassLoader loader) {
        try (ObjectInputStream in = new Checked(new ByteArrayInputStream(bytes), check, loader)) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new KryoException("Java deserialization failed: " + e, e);
        }
    }

    /** The class of the object a Java serialization stream starts with, without resolving it; null if unknown. */
    static String firstClassName(byte[] b, int offset) {
        // STREAM_MAGIC, STREAM_VERSION, TC_OBJECT, TC_CLASSDESC, then the class name in modified UTF-8.
        if (b.length < offset + 8 || (b[offset] & 0xff) != 0xac || (b[offset + 1] & 0xff) != 0xed
                || b[offset + 4] != 0x73 || b[offset + 5] != 0x72) {
            return null;
        }
        int len = (b[offset + 6] & 0xff) << 8 | (b[offset + 7] & 0xff);
        if (b.length < offset + 8 + len) {
            return null;
        }
        return new String(b, offset + 8, len, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Checks each class as its descriptor is written, once per stream. */
    private static final class CheckedOut extends ObjectOutputStream {
        private final ClassCheck check;

        CheckedOut(OutputStream out, ClassCheck check) throws IOException {
            super(out);
            this.check = check;
        }

        @Override
        protected void annotateClass(Class<?> cl) {
            // ObjectOutputStream writes the exception that failed it into the stream: let that one
            // surface as itself, not as a refusal.
            if (!java.io.ObjectStreamException.class.isAssignableFrom(cl)) {
                check.check(cl);
            }
        }

        @Override
        protected void annotateProxyClass(Class<?> cl) {
            for (Class<?> i : cl.getInterfaces()) {
                check.check(i);
            }
        }
    }

    private static final class Checked extends ObjectInputStream {
        private final ClassCheck check;
        private final ClassLoader loader;

        Checked(InputStream in, ClassCheck check, ClassLoader loader) throws IOException {
            super(in);
            this.check = check;
            this.loader = loader;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return check.resolve(desc.getName(), loader);
            } catch (ClassNotFoundException e) {
                // Primitive types, which Class.forName does not know by name.
                Class<?> c = super.resolveClass(desc);
                check.check(c);
                return c;
            }
        }

        @Override
        @SuppressWarnings("deprecation")
        protected Class<?> resolveProxyClass(String[] interfaces) throws IOException, ClassNotFoundException {
            Class<?>[] types = new Class<?>[interfaces.length];
            for (int i = 0; i < interfaces.length; i++) {
                types[i] = Class.forName(interfaces[i], false, loader);
                check.check(types[i]);
            }
            try {
                return Proxy.getProxyClass(loader, types);
            } catch (IllegalArgumentException e) {
                throw new ClassNotFoundException("no proxy class for " + Arrays.toString(interfaces), e);
            }
        }
    }

    /** A byte array stream that refuses to grow past the attribute size limit. */
    private static final class Bounded extends OutputStream {
        private final int max;
        private byte[] buf = new byte[256];
        private int size;

        Bounded(int max) {
            this.max = max;
        }

        private void ensure(int more) {
            if (size + more > max) {
                throw new KryoBufferOverflowException("Java serialization exceeds " + max + " bytes");
            }
            if (size + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.min(max, Math.max(buf.length * 2, size + more)));
            }
        }

        @Override
        public void write(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }

        byte[] toByteArray() {
            return Arrays.copyOf(buf, size);
        }
    }
}
