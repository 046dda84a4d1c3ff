package io.sessionagent.agent.auth;

import java.util.Arrays;

/**
 * One secret shared by the agents of a cluster, named by an id that travels with every sealed
 * frame and peer message, so that a receiver knows which of its keys to try during a rotation.
 */
public final class ClusterKey {
    private final int id;
    private final byte[] material;

    public ClusterKey(int id, byte[] material) {
        if (id < 1) {
            throw new IllegalArgumentException("key id " + id + " must be 1 or more");
        }
        if (material.length != 16 && material.length != 24 && material.length != 32) {
            throw new IllegalArgumentException("key " + id + " has " + material.length
                    + " bytes; AES keys have 16, 24 or 32");
        }
        this.id = id;
        this.material = material.clone();
    }

    public int id() {
        return id;
    }

    byte[] material() {
        return material;
    }

    boolean sameAs(ClusterKey other) {
        return id == other.id && Arrays.equals(material, other.material);
    }

    @Override
    public String toString() {
        // Never the material: keys end up in log lines through toString.
        return "key " + id + " (" + material.length * 8 + " bit)";
    }
}
