package io.sessionagent.filter.javax;

import io.sessionagent.filter.core.CommitGuard;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Locale;

import javax.servlet.ServletOutputStream;
import javax.servlet.ServletResponse;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;

/**
 * Runs the commit guard before anything can commit the response: once the client holds a
 * response it may send its next request, perhaps to another node.
 */
final class CommittingResponse extends HttpServletResponseWrapper {
    private final CommitGuard guard;
    private CommittingOutputStream stream;
    private CommittingWriter writer;

    CommittingResponse(HttpServletResponse response, CommitGuard guard) {
        super(response);
        this.guard = guard;
        guard.bufferSize(response.getBufferSize());
    }

    @Override
    public void setBufferSize(int size) {
        super.setBufferSize(size);
        guard.bufferSize(getResponse().getBufferSize());
    }

    @Override
    public void sendError(int sc) throws IOException {
        guard.run();
        super.sendError(sc);
    }

    @Override
    public void sendError(int sc, String msg) throws IOException {
        guard.run();
        super.sendError(sc, msg);
    }

    @Override
    public void sendRedirect(String location) throws IOException {
        guard.run();
        super.sendRedirect(location);
    }

    @Override
    public void flushBuffer() throws IOException {
        guard.run();
        super.flushBuffer();
    }

    @Override
    public void setContentLength(int len) {
        guard.contentLength(len);
        super.setContentLength(len);
    }

    /** Servlet 3.1. */
    public void setContentLengthLong(long len) {
        guard.contentLength(len);
        ServletApi.call(ServletResponse.class, getResponse(), "setContentLengthLong", new Class<?>[] {long.class}, len);
    }

    @Override
    public void setHeader(String name, String value) {
        contentLengthHeader(name, value);
        super.setHeader(name, value);
    }

    @Override
    public void addHeader(String name, String value) {
        contentLengthHeader(name, value);
        super.addHeader(name, value);
    }

    @Override
    public void setIntHeader(String name, int value) {
        contentLengthHeader(name, Integer.toString(value));
        super.setIntHeader(name, value);
    }

    @Override
    public void addIntHeader(String name, int value) {
        contentLengthHeader(name, Integer.toString(value));
        super.addIntHeader(name, value);
    }

    private void contentLengthHeader(String name, String value) {
        if (name != null && value != null && name.toLowerCase(Locale.ROOT).equals("content-length")) {
            try {
                guard.contentLength(Long.parseLong(value.trim()));
            } catch (NumberFormatException e) {
                // The container rejects or ignores it; nothing to track.
            }
        }
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (stream == null) {
            stream = new CommittingOutputStream(super.getOutputStream(), guard);
        }
        return stream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (writer == null) {
            PrintWriter w = super.getWriter();
            writer = new CommittingWriter(w, guard, maxBytesPerChar(getCharacterEncoding()));
        }
        return writer;
    }

    /** The container's buffer holds bytes; the writer counts chars. */
    private static float maxBytesPerChar(String encoding) {
        try {
            return Charset.forName(encoding).newEncoder().maxBytesPerChar();
        } catch (RuntimeException e) {
            return 4;
        }
    }

    static final class CommittingOutputStream extends ServletOutputStream {
        private final ServletOutputStream delegate;
        private final CommitGuard guard;

        CommittingOutputStream(ServletOutputStream delegate, CommitGuard guard) {
            this.delegate = delegate;
            this.guard = guard;
        }

        @Override
        public void write(int b) throws IOException {
            guard.beforeWrite(1);
            delegate.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            guard.beforeWrite(len);
            delegate.write(b, off, len);
        }

        @Override
        public void print(String s) throws IOException {
            guard.beforeWrite(s == null ? 4 : s.length());
            delegate.print(s);
        }

        @Override
        public void flush() throws IOException {
            guard.run();
            delegate.flush();
        }

        @Override
        public void close() throws IOException {
            guard.run();
            delegate.close();
        }

        /** Servlet 3.1. */
        public boolean isReady() {
            return (Boolean) ServletApi.call(ServletOutputStream.class, delegate, "isReady", new Class<?>[0]);
        }

        /** Servlet 3.1; {@link WriteListener} resolves to the container's own class. */
        public void setWriteListener(WriteListener listener) {
            ServletApi.call(ServletOutputStream.class, delegate, "setWriteListener", new Class<?>[] {WriteListener.class}, listener);
        }
    }

    /** Every PrintWriter output path ends in one of the write methods or flush/close. */
    static final class CommittingWriter extends PrintWriter {
        private final PrintWriter delegate;
        private final CommitGuard guard;
        private final float maxBytesPerChar;

        CommittingWriter(PrintWriter delegate, CommitGuard guard, float maxBytesPerChar) {
            super(delegate);
            this.delegate = delegate;
            this.guard = guard;
            this.maxBytesPerChar = maxBytesPerChar;
        }

        private void beforeWrite(int chars) {
            guard.beforeWrite((long) Math.ceil(chars * (double) maxBytesPerChar));
        }

        @Override
        public void write(int c) {
            beforeWrite(1);
            delegate.write(c);
        }

        @Override
        public void write(char[] buf, int off, int len) {
            beforeWrite(len);
            delegate.write(buf, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            beforeWrite(len);
            delegate.write(s, off, len);
        }

        @Override
        public void println() {
            beforeWrite(System.lineSeparator().length());
            delegate.println();
        }

        @Override
        public void flush() {
            guard.run();
            delegate.flush();
        }

        @Override
        public void close() {
            guard.run();
            delegate.close();
        }

        @Override
        public boolean checkError() {
            return delegate.checkError();
        }
    }
}
