package io.sessionagent.agent.api;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.SessionChange;

import java.util.HashSet;
import java.util.Set;

/** Checks on what the local filter sends, each failing with INVALID_ARGUMENT and a precise message. */
final class Requests {
    static final int MAX_ID_LENGTH = 128;
    static final int MAX_NAME_LENGTH = 1024;

    private Requests() {
    }

    static void checkId(String id) {
        if (id.isEmpty()) {
            throw invalid("session id is empty");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw invalid("session id has " + id.length() + " characters; at most " + MAX_ID_LENGTH + " allowed");
        }
        int dot = id.indexOf('.');
        if (dot >= 0) {
            throw invalid("session id '" + abbreviate(id) + "' carries a route suffix; send the id without '"
                    + abbreviate(id.substring(dot)) + "'");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '_';
            if (!ok) {
                throw invalid("session id '" + abbreviate(id) + "' has character U+"
                        + String.format("%04X", (int) c) + " at " + i + "; only A-Z a-z 0-9 - _ are allowed");
            }
        }
    }

    static void checkChange(SessionChange c) {
        checkId(c.getId());
        if (c.getCreationTimeMs() < 0 || c.getAccessTimeMs() < 0) {
            throw invalid("session " + c.getId() + ": creation and access times must not be negative");
        }
        Set<String> names = new HashSet<>();
        for (Attribute a : c.getSetList()) {
            checkName(c.getId(), a.getName());
            if (!names.add(a.getName())) {
                throw invalid("session " + c.getId() + ": attribute '" + abbreviate(a.getName())
                        + "' is set twice in one change");
            }
        }
        for (String name : c.getRemovedList()) {
            checkName(c.getId(), name);
            if (names.contains(name)) {
                throw invalid("session " + c.getId() + ": attribute '" + abbreviate(name)
                        + "' is both set and removed in one change");
            }
        }
    }

    private static void checkName(String id, String name) {
        if (name.isEmpty()) {
            throw invalid("session " + id + ": an attribute name is empty");
        }
        if (name.length() > MAX_NAME_LENGTH) {
            throw invalid("session " + id + ": attribute name of " + name.length() + " characters; at most "
                    + MAX_NAME_LENGTH + " allowed");
        }
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
