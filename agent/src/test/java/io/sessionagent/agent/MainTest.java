package io.sessionagent.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.sessionagent.agent.config.Setting;
import io.sessionagent.agent.config.Settings;
import io.sessionagent.proto.v1.Attribute;
import io.sessionagent.proto.v1.ClusterView;
import io.sessionagent.proto.v1.ClusterViewRequest;
import io.sessionagent.proto.v1.Durability;
import io.sessionagent.proto.v1.GetSessionRequest;
import io.sessionagent.proto.v1.GetSessionResponse;
import io.sessionagent.proto.v1.ListSessionsRequest;
import io.sessionagent.proto.v1.ListSessionsResponse;
import io.sessionagent.proto.v1.Member;
import io.sessionagent.proto.v1.MemberState;
import io.sessionagent.proto.v1.SessionRecord;
import io.sessionagent.proto.v1.SessionServiceGrpc;
import io.sessionagent.proto.v1.SessionSummary;
import io.sessionagent.proto.v1.WriteOutcome;
import io.sessionagent.proto.v1.WriteRequest;
import io.sessionagent.proto.v1.WriteResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MainTest {

    private static final ClusterView VIEW = ClusterView.newBuilder()
            .setClusterName("shop")
            .setSelf(Member.newBuilder()
                    .setMemberId(0xfedcba9876543210L)
                    .setNodeName("web-1-7400")
                    .setIncarnation(1_700_000_000_000L)
                    .setPeerAddress("10.0.0.1:7401")
                    .setState(MemberState.MEMBER_STATE_READY)
                    .setSessionCount(42))
            .addMembers(Member.newBuilder()
                    .setMemberId(7)
                    .setNodeName("web-\"2\"")
                    .setIncarnation(5)
                    .setPeerAddress("10.0.0.2:7401")
                    .setState(MemberState.MEMBER_STATE_JOINING)
                    .setLastHeardMsAgo(1250)
                    .setSessionCount(40))
            .setViewId(3)
            .setSessionCount(42)
            .setBytesHeld(3 * 1024 * 1024)
            .setTableHash(0xdeadbeefL)
            .putCounters("frames_sent", 100)
            .putCounters("acks_received", 9)
            .setReplicationEnabled(true)
            .build();

    /** A session with a text value that needs escaping and a binary one. */
    private static final SessionRecord STORED = SessionRecord.newBuilder()
            .setId("stored0000000000000000")
            .setVersion(-2L)
            .setWriter(0xfeedL)
            .setCreationTimeMs(1_700_000_000_000L)
            .setLastAccessTimeMs(1_700_000_060_000L)
            .setMaxInactiveSeconds(1800)
            .addAttributes(Attribute.newBuilder().setName("user").setValue(ByteString.copyFromUtf8("a \"b\" <c>")))
            .addAttributes(Attribute.newBuilder().setName("blob").setValue(ByteString.copyFrom(new byte[] {0, -1, 7})))
            .build();

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
    private final AtomicReference<Status> failWith = new AtomicReference<>();
    private final List<WriteRequest> writes = new CopyOnWriteArrayList<>();
    private final List<ListSessionsRequest> lists = new CopyOnWriteArrayList<>();
    private Server server;

    @BeforeEach
    void startFakeAgent() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new SessionServiceGrpc.SessionServiceImplBase() {
                    @Override
                    public void getSession(GetSessionRequest request, StreamObserver<GetSessionResponse> response) {
                        response.onNext(request.getId().equals(STORED.getId())
                                ? GetSessionResponse.newBuilder().setFound(true).setSession(STORED).build()
                                : GetSessionResponse.newBuilder().setFound(false).build());
                        response.onCompleted();
                    }

                    @Override
                    public void writeDelta(WriteRequest request, StreamObserver<WriteResponse> response) {
                        writes.add(request);
                        response.onNext(WriteResponse.newBuilder().setVersion(1).setAcks(2)
                                .setOutcome(request.getDurability() == Durability.DURABILITY_SYNC_ALL
                                        ? WriteOutcome.WRITE_OUTCOME_REPLICATED : WriteOutcome.WRITE_OUTCOME_APPLIED)
                                .build());
                        response.onCompleted();
                    }

                    @Override
                    public void listSessions(ListSessionsRequest request, StreamObserver<ListSessionsResponse> response) {
                        lists.add(request);
                        response.onNext(ListSessionsResponse.newBuilder()
                                .addSessions(SessionSummary.newBuilder().setId("s1").setVersion(4).setBytes(10))
                                .addSessions(SessionSummary.newBuilder().setId("s2").setVersion(-1L).setBytes(20))
                                .build());
                        response.onCompleted();
                    }

                    @Override
                    public void getClusterView(ClusterViewRequest request, StreamObserver<ClusterView> response) {
                        Status status = failWith.get();
                        if (status != null) {
                            response.onError(status.asRuntimeException());
                            return;
                        }
                        response.onNext(VIEW);
                        response.onCompleted();
                    }
                })
                .build()
                .start();
    }

    @AfterEach
    void stopFakeAgent() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private int run(Map<String, String> env, String... args) {
        return Main.run(args, out, err, env);
    }

    private int run(String... args) {
        return run(Map.of(), args);
    }

    private String out() {
        return outBytes.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    private static String folded(String text) {
        return text.replaceAll("\\s+", " ");
    }

    private String agent() {
        return "127.0.0.1:" + server.getPort();
    }

    @Test
    void helpListsEverySettingWithDefaultAndTheOtherForms() {
        assertThat(run("--help")).isZero();
        // Descriptions are wrapped to the width of the help: compare with whitespace folded.
        String help = folded(out());
        for (Setting<?> s : Settings.all()) {
            assertThat(help).contains(s.name()).contains(folded(s.description()));
        }
        assertThat(help).contains("run", "view", "replication on|off", "drain [--admin HOST:PORT]", "--config FILE", "SESSION_AGENT_CONFIG", "SESSION_AGENT_<NAME>",
                "YAML", "239.255.27.1", "45588", "<hostname>-<grpc-port>");
        assertThat(err()).isEmpty();
    }

    @Test
    void helpHasTheSameTextWhateverTheSpelling() {
        run("-h");
        String first = out();
        outBytes.reset();
        run("run", "--help");
        assertThat(out()).isEqualTo(first);
        outBytes.reset();
        run("--grpc-port", "1", "--help");
        assertThat(out()).isEqualTo(first);
    }

    @Test
    void versionFallsBackToDevOutsideAJar() {
        assertThat(run("--version")).isZero();
        assertThat(out()).isEqualTo("session-agent dev" + System.lineSeparator());
    }

    @Test
    void keygenPrintsAKeyFileLineThatTheAgentReads() throws Exception {
        assertThat(run("keygen", "--id", "7")).isZero();
        String line = out().strip();
        assertThat(line).matches("7:[A-Za-z0-9+/]{43}=");
        io.sessionagent.agent.auth.KeyRing ring = io.sessionagent.agent.auth.KeyRing.parse(line, "out");
        assertThat(ring.sending().id()).isEqualTo(7);
        outBytes.reset();
        assertThat(run("keygen")).isZero();
        assertThat(out().strip()).startsWith("1:").isNotEqualTo(line.replaceFirst("^7", "1"));
        assertThat(run("keygen", "--id", "0")).isEqualTo(2);
        assertThat(err()).contains("--id must be a whole number");
        assertThat(run("keygen", "extra")).isEqualTo(2);
    }

    @Test
    void anUnknownCommandIsAUsageError() {
        assertThat(run("start")).isEqualTo(2);
        assertThat(err()).contains("unknown command start");
    }

    @Test
    void anInvalidConfigurationIsAUsageErrorWithoutStackTrace() {
        assertThat(run(Map.of("SESSION_AGENT_GRPC_PORT", "x"), "--multicast-port", "70000", "--hartbeat-interval=1s"))
                .isEqualTo(2);
        assertThat(err())
                .contains("multicast-port: 70000 (from flag --multicast-port) must be between 1 and 65535")
                .contains("unknown flag --hartbeat-interval (did you mean --heartbeat-interval?)")
                .contains("grpc-port: x (from env SESSION_AGENT_GRPC_PORT)")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
        assertThat(out()).isEmpty();
    }

    @Test
    void runRefusesStrayArguments() {
        assertThat(run("run", "now")).isEqualTo(2);
        assertThat(err()).contains("unexpected argument now");
        assertThat(run("-x")).isEqualTo(2);
    }

    @Test
    void viewPrintsTheClusterAsATable() {
        assertThat(run("view", "--grpc", agent())).isZero();
        String table = out();
        assertThat(table)
                .containsPattern("cluster\\s+shop")
                .containsPattern("self\\s+web-1-7400")
                .containsPattern("sessions\\s+42")
                .containsPattern("bytes held\\s+3145728 \\(3\\.0 MiB\\)")
                .containsPattern("table hash\\s+0x00000000deadbeef")
                .containsPattern("replication\\s+enabled")
                .containsPattern("web-1-7400 \\(self\\)\\s+READY\\s+-\\s+42\\s+10\\.0\\.0\\.1:7401\\s+0xfedcba9876543210")
                .containsPattern("web-\"2\"\\s+JOINING\\s+1\\.3s ago\\s+40\\s+10\\.0\\.0\\.2:7401");
        assertThat(table.indexOf("acks_received")).isLessThan(table.indexOf("frames_sent"));
        assertThat(table).containsPattern("acks_received\\s+9").containsPattern("frames_sent\\s+100");
        assertThat(err()).isEmpty();
    }

    @Test
    void viewPrintsJson() {
        assertThat(run("view", "--json", "--grpc=" + agent(), "--timeout", "5s")).isZero();
        String json = out().strip();
        JsonObject view = JsonParser.parseString(json).getAsJsonObject();
        assertThat(view.get("cluster_name").getAsString()).isEqualTo("shop");
        assertThat(view.getAsJsonArray("members")).hasSize(VIEW.getMembersCount());
        JsonObject member = view.getAsJsonArray("members").get(0).getAsJsonObject();
        assertThat(view.getAsJsonObject("self").get("member_id").getAsBigInteger())
                .isEqualTo(new BigInteger("18364758544493064720"));
        assertThat(member.get("member_id").getAsLong()).isEqualTo(7);
        assertThat(member.get("node_name").getAsString()).isEqualTo("web-\"2\"");
        assertThat(member.get("state").getAsString()).isEqualTo("MEMBER_STATE_JOINING");
        assertThat(member.get("last_heard_ms_ago").getAsLong()).isEqualTo(1250);
        assertThat(view.getAsJsonObject("self").get("node_name").getAsString()).isEqualTo(VIEW.getSelf().getNodeName());
        assertThat(view.get("table_hash").getAsLong()).isEqualTo(0xdeadbeefL);
        assertThat(view.get("bytes_held").getAsLong()).isEqualTo(3 * 1024 * 1024);
        assertThat(view.get("replication_enabled").getAsBoolean()).isTrue();
        assertThat(view.getAsJsonObject("counters").keySet()).containsExactly("acks_received", "frames_sent");
        assertThat(view.keySet()).containsExactly("cluster_name", "self", "members", "view_id", "session_count",
                "bytes_held", "table_hash", "table_hash_hex", "counters", "replication_enabled");
        // The layout scripts and docs show: one key per line, indented, numbers unquoted.
        assertThat(json)
                .contains("\"cluster_name\": \"shop\"")
                .contains("\"member_id\": 18364758544493064720")
                .contains("\"node_name\": \"web-\\\"2\\\"\"")
                .contains("\"state\": \"MEMBER_STATE_JOINING\"")
                .contains("\"last_heard_ms_ago\": 1250")
                .contains("\"table_hash\": 3735928559")
                .contains("\"table_hash_hex\": \"00000000deadbeef\"")
                .contains("\"bytes_held\": 3145728")
                .contains("\"replication_enabled\": true")
                .containsPattern("\"counters\": \\{\\s*\"acks_received\": 9,\\s*\"frames_sent\": 100\\s*}");
        // Every key is snake_case.
        assertThat(json.lines().filter(l -> l.strip().startsWith("\"")).map(l -> l.strip().split("\"")[1]))
                .allMatch(k -> k.matches("[a-z_]+"));
    }

    @Test
    void viewFindsTheAgentThroughTheGrpcPortSetting() {
        assertThat(run("view", "--grpc-port", Integer.toString(server.getPort()))).isZero();
        assertThat(out()).contains("shop");
        outBytes.reset();
        assertThat(run(Map.of("SESSION_AGENT_GRPC_PORT", Integer.toString(server.getPort())), "view", "--json"))
                .isZero();
        assertThat(out()).contains("\"cluster_name\": \"shop\"");
    }

    @Test
    void viewReportsAnUnreachableAgentWithItsAddress() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(run("view", "--grpc", "127.0.0.1:" + port, "--timeout", "2s")).isEqualTo(3);
        assertThat(err()).contains("cannot reach the agent at 127.0.0.1:" + port);
        assertThat(out()).isEmpty();
    }

    @Test
    void viewReportsAnAgentError() {
        failWith.set(Status.INTERNAL.withDescription("boom"));
        assertThat(run("view", "--grpc", agent())).isEqualTo(1);
        assertThat(err()).contains("the agent at " + agent() + " refused: INTERNAL (boom)");
    }

    @Test
    void viewUsageErrors() {
        assertThat(run("view", "--grpc", "nohost")).isEqualTo(2);
        assertThat(err()).contains("--grpc: nohost must be HOST:PORT");
        errBytes.reset();
        assertThat(run("view", "--timeout", "soon", "--grpc-port", "0")).isEqualTo(2);
        assertThat(err()).contains("--timeout: soon must be a duration").contains("grpc-port is 0");
        errBytes.reset();
        assertThat(run("view", "--grpc")).isEqualTo(2);
        assertThat(err()).contains("--grpc: missing value");
        errBytes.reset();
        assertThat(run("view", "extra")).isEqualTo(2);
        assertThat(err()).contains("unexpected argument extra");
    }

    /** A stand-in for the agent's admin port: records each request and answers as told. */
    private static final class FakeAdmin implements AutoCloseable {
        final com.sun.net.httpserver.HttpServer http;
        final java.util.List<String> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile int status = 200;
        volatile String body = "done";

        FakeAdmin() throws IOException {
            http = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/", ex -> {
                requests.add(ex.getRequestMethod() + " " + ex.getRequestURI());
                byte[] b = body.getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(status, b.length);
                ex.getResponseBody().write(b);
                ex.close();
            });
            http.start();
        }

        String address() {
            return "127.0.0.1:" + http.getAddress().getPort();
        }

        @Override
        public void close() {
            http.stop(0);
        }
    }

    @Test
    void replicationOffAndOnAndDrainPostToTheAdminEndpoints() throws IOException {
        try (FakeAdmin admin = new FakeAdmin()) {
            admin.body = "replication off: this agent now serves its own node only";
            assertThat(run("replication", "off", "--admin", admin.address())).isZero();
            assertThat(out()).isEqualTo(admin.body + System.lineSeparator());
            assertThat(run("replication", "on", "--admin=" + admin.address())).isZero();
            assertThat(run("drain", "--admin", admin.address())).isZero();
            assertThat(admin.requests).containsExactly("POST /admin/replication?enabled=false",
                    "POST /admin/replication?enabled=true", "POST /admin/drain");
            assertThat(err()).isEmpty();
        }
    }

    @Test
    void adminCommandsFindTheAgentThroughTheMetricsPortSetting() throws IOException {
        try (FakeAdmin admin = new FakeAdmin()) {
            int port = admin.http.getAddress().getPort();
            assertThat(run("drain", "--metrics-port", Integer.toString(port))).isZero();
            assertThat(run(Map.of("SESSION_AGENT_METRICS_PORT", Integer.toString(port)), "replication", "off"))
                    .isZero();
            assertThat(admin.requests).containsExactly("POST /admin/drain", "POST /admin/replication?enabled=false");
        }
    }

    @Test
    void anAdminRefusalIsReportedWithTheAgentsMessage() throws IOException {
        try (FakeAdmin admin = new FakeAdmin()) {
            admin.status = 409;
            admin.body = "this agent has left the cluster (drained); restart it to rejoin";
            assertThat(run("replication", "on", "--admin", admin.address())).isEqualTo(1);
            assertThat(err()).contains("the agent at " + admin.address() + " refused: 409 (this agent has left");
        }
    }

    @Test
    void adminCommandUsageErrorsAndAnUnreachableAgent() throws IOException {
        assertThat(run("replication")).isEqualTo(2);
        assertThat(err()).contains("say on or off");
        errBytes.reset();
        assertThat(run("replication", "maybe", "--admin", "127.0.0.1:1")).isEqualTo(2);
        assertThat(err()).contains("(got maybe)");
        errBytes.reset();
        assertThat(run("drain", "now", "--admin", "127.0.0.1:1")).isEqualTo(2);
        assertThat(err()).contains("unexpected argument now");
        errBytes.reset();
        assertThat(run("drain", "--metrics-port", "0")).isEqualTo(2);
        assertThat(err()).contains("metrics-port is 0").contains("--admin HOST:PORT");
        errBytes.reset();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(run("drain", "--admin", "127.0.0.1:" + port, "--timeout", "2s")).isEqualTo(3);
        assertThat(err()).contains("cannot reach the agent's admin endpoint at 127.0.0.1:" + port);
        outBytes.reset();
        assertThat(run("replication", "--help")).isZero();
        assertThat(out()).contains("replication on|off", "drain [--admin HOST:PORT]");
    }

    @Test
    void listTakesTheLimitInEitherForm() {
        assertThat(run("list", "--limit=5", "--grpc=" + agent())).isZero();
        assertThat(run("list", "--limit", "7", "--json", "--grpc", agent())).isZero();
        assertThat(lists).extracting(ListSessionsRequest::getPageSize).containsExactly(5, 7);
        assertThat(out()).contains("s1  version 4  10 bytes").contains("[{\"id\":\"s1\",\"version\":4");
        String array = out().substring(out().indexOf('['));
        JsonArray listed = JsonParser.parseString(array).getAsJsonArray();
        assertThat(listed).hasSize(2);
        assertThat(listed.get(0).getAsJsonObject().keySet()).containsExactly("id", "version", "writer", "bytes");
        assertThat(listed.get(0).getAsJsonObject().get("bytes").getAsInt()).isEqualTo(10);
        assertThat(listed.get(1).getAsJsonObject().get("version").getAsBigInteger())
                .isEqualTo(new BigInteger("18446744073709551615"));
        // One session to a line: demo/topology.sh counts them with grep -c and reads them with sed.
        assertThat(array.lines().filter(l -> l.contains("\"id\":"))).hasSize(2);
        assertThat(err()).isEmpty();
        assertThat(run("list", "--limit=0", "--grpc=" + agent())).isEqualTo(2);
        assertThat(err()).contains("--limit: 0 must be a number between 1 and 10000");
        assertThat(lists).hasSize(2);
    }

    @Test
    void putTakesRemoveAndSyncInEitherForm() {
        assertThat(run("put", "id1", "a=b", "--remove=c", "--grpc=" + agent())).isZero();
        assertThat(run("put", "id1", "a=b", "--remove", "c", "--remove=d", "--sync=true", "--grpc", agent())).isZero();
        assertThat(run("put", "id1", "--sync", "a=b", "--grpc", agent())).isZero();
        assertThat(run("put", "id1", "a=b", "--sync", "--grpc", agent())).isZero();
        assertThat(run("put", "id1", "a=b", "--sync=false", "--grpc", agent())).isZero();
        assertThat(writes).extracting(w -> List.copyOf(w.getChange().getRemovedList()))
                .containsExactly(List.of("c"), List.of("c", "d"), List.<String>of(), List.<String>of(),
                        List.<String>of());
        assertThat(writes).extracting(WriteRequest::getDurability).containsExactly(Durability.DURABILITY_ASYNC,
                Durability.DURABILITY_SYNC_ALL, Durability.DURABILITY_SYNC_ALL, Durability.DURABILITY_SYNC_ALL,
                Durability.DURABILITY_ASYNC);
        assertThat(writes).allSatisfy(w -> {
            assertThat(w.getChange().getId()).isEqualTo("id1");
            assertThat(w.getChange().getSet(0).getName()).isEqualTo("a");
            assertThat(w.getChange().getSet(0).getValue().toStringUtf8()).isEqualTo("b");
        });
        assertThat(out()).contains("id1 version 1 applied", "id1 version 1 replicated (2 acks)");
        assertThat(err()).isEmpty();
        assertThat(run("put", "id1", "a=b", "--sync=maybe", "--grpc", agent())).isEqualTo(2);
        assertThat(err()).contains("--sync").contains("maybe");
        assertThat(writes).hasSize(5);
    }

    @Test
    void anArgumentStartingWithAnAtSignIsTakenAsWritten() {
        assertThat(run("put", "@id", "a=@b", "--grpc", agent())).isZero();
        assertThat(writes).singleElement().satisfies(w -> {
            assertThat(w.getChange().getId()).isEqualTo("@id");
            assertThat(w.getChange().getSet(0).getValue().toStringUtf8()).isEqualTo("@b");
        });
    }

    @Test
    void viewTakesTimeoutAndJsonWithEquals() {
        assertThat(run("view", "--timeout=2s", "--json", "--grpc=" + agent())).isZero();
        assertThat(out()).contains("\"cluster_name\": \"shop\"");
        outBytes.reset();
        assertThat(run("view", "--json=true", "--timeout", "2s", "--grpc", agent())).isZero();
        assertThat(out()).contains("\"cluster_name\": \"shop\"");
        outBytes.reset();
        assertThat(run("view", "--json=false", "--grpc", agent())).isZero();
        assertThat(out()).containsPattern("cluster\\s+shop");
        assertThat(err()).isEmpty();
    }

    @Test
    void getPrintsTheSessionAsJson() {
        assertThat(run("get", STORED.getId(), "--json", "--grpc", agent())).isZero();
        String json = out();
        assertThat(json).endsWith("}\n").contains("\"utf8\":\"a \\\"b\\\" <c>\"");
        JsonObject session = JsonParser.parseString(json).getAsJsonObject();
        assertThat(session.get("id").getAsString()).isEqualTo(STORED.getId());
        assertThat(session.get("version").getAsBigInteger()).isEqualTo(new BigInteger("18446744073709551614"));
        assertThat(session.get("writer").getAsLong()).isEqualTo(0xfeedL);
        assertThat(session.get("creation_time_ms").getAsLong()).isEqualTo(1_700_000_000_000L);
        assertThat(session.get("last_access_time_ms").getAsLong()).isEqualTo(1_700_000_060_000L);
        assertThat(session.get("max_inactive_seconds").getAsInt()).isEqualTo(1800);
        JsonObject attributes = session.getAsJsonObject("attributes");
        assertThat(attributes.keySet()).containsExactly("user", "blob");
        assertThat(attributes.getAsJsonObject("user").get("utf8").getAsString()).isEqualTo("a \"b\" <c>");
        assertThat(attributes.getAsJsonObject("user").get("bytes").getAsInt()).isEqualTo(9);
        assertThat(attributes.getAsJsonObject("blob").has("utf8")).isFalse();
        assertThat(Base64.getDecoder().decode(attributes.getAsJsonObject("blob").get("base64").getAsString()))
                .containsExactly(0, -1, 7);
        assertThat(err()).isEmpty();
    }

    @Test
    void getTakesJsonWithEquals() {
        assertThat(run("get", "nosuch", "--json=true", "--grpc=" + agent())).isEqualTo(4);
        assertThat(err()).contains("holds no session nosuch");
    }

    @Test
    void adminCommandsTakeTheAddressWithEquals() throws IOException {
        try (FakeAdmin admin = new FakeAdmin()) {
            assertThat(run("replication", "off", "--admin=" + admin.address())).isZero();
            assertThat(run("drain", "--admin=" + admin.address(), "--timeout=2s")).isZero();
            assertThat(run("health", "--admin=" + admin.address())).isZero();
            assertThat(run("ready", "--timeout=1s", "--admin=" + admin.address())).isZero();
            assertThat(admin.requests).containsExactly("POST /admin/replication?enabled=false", "POST /admin/drain",
                    "GET /health", "GET /ready");
            assertThat(err()).isEmpty();
        }
    }

    @Test
    void keygenTakesTheIdWithEquals() {
        assertThat(run("keygen", "--id=9")).isZero();
        assertThat(out().strip()).startsWith("9:");
    }

    @Test
    void anUnknownOptionOfAClientCommandIsNamed() {
        assertThat(run("list", "--limt=5", "--grpc=" + agent())).isEqualTo(2);
        assertThat(err()).contains("session-agent list: unknown flag --limt (did you mean --limit?)");
        errBytes.reset();
        assertThat(run("view", "--grpc-port=x")).isEqualTo(2);
        assertThat(err()).contains("grpc-port: x (from flag --grpc-port)");
        assertThat(lists).isEmpty();
    }

    @Test
    void eachCommandHasItsOwnHelp() {
        for (String command : List.of("view", "get", "list", "put", "replication", "drain", "health", "ready",
                "keygen")) {
            outBytes.reset();
            assertThat(run(command, "--help")).as(command).isZero();
            assertThat(out()).as(command).contains("Usage: java -jar session-agent.jar " + command, "--help");
        }
        assertThat(err()).isEmpty();
    }
}
