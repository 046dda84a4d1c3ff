package io.sessionagent.agent.transport;

/**
 * One decoded datagram.
 *
 * @param sequence      position in the sender's reliable stream (DATA only; 0 otherwise)
 * @param fragmentIndex index of this fragment within its batch (0-based)
 * @param fragmentCount number of fragments of the batch (1 when not fragmented)
 * @param body          the protobuf body, copied out of the datagram
 * @param raw           the whole datagram as received, kept for retransmission
 */
public record Frame(FrameType type, long memberId, long incarnation, long sequence, int fragmentIndex,
                    int fragmentCount, byte[] body, byte[] raw) {
}
