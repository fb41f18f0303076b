// The ME side of APF (spec/apf.md §2) over a RecordingConnection, with fake channel peers: the handshake in
// LMS's order and rpc-go's, channels and their pool, window accounting both ways, close, errors.
#include <gtest/gtest.h>

#include "firmware/lme/apf_session.h"
#include "firmware/lme/lme_client.h"
#include "firmware/lme/lms_event.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::lme {
namespace {

using namespace apf;

// A channel peer driven by the test: writes and reads wait until completed by hand.
class FakePeer : public ChannelPeer {
 public:
  void read(std::size_t maxBytes, ReadHandler handler) override {
    readMax = maxBytes;
    pendingRead = std::move(handler);
  }
  void write(Bytes data, WriteHandler handler) override {
    written.insert(written.end(), data.begin(), data.end());
    pendingWrites.push_back({data.size(), std::move(handler)});
  }
  void close() override {
    closed = true;
    pendingRead = nullptr;
    pendingWrites.clear();
  }
  // Completes the pending read with `data` (empty: end of stream).
  void feed(const Bytes& data) {
    ASSERT_TRUE(pendingRead);
    auto handler = std::exchange(pendingRead, {});
    handler(data);
  }
  void completeWrites(bool ok = true) {
    while (!pendingWrites.empty()) {
      auto handler = std::move(pendingWrites.front().second);
      pendingWrites.erase(pendingWrites.begin());
      handler(ok);
    }
  }

  Bytes written;
  std::vector<std::pair<std::size_t, WriteHandler>> pendingWrites;
  ReadHandler pendingRead;
  std::size_t readMax = 0;
  bool closed = false;
};

class ApfSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { create({}); }

  void create(ApfSessionOptions options) {
    mtu = options.maxMessageLength;
    options.uuid = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    connection = std::make_shared<test::RecordingConnection>();
    session = std::make_shared<ApfSession>(connection, options, [this](std::uint32_t port) -> std::shared_ptr<ChannelPeer> {
      requestedPorts.push_back(port);
      if (refuseFactory) return nullptr;
      peers.push_back(std::make_shared<FakePeer>());
      return peers.back();
    });
  }

  // Everything the ME sent since the last call, decoded.
  std::vector<Message> sent() {
    std::vector<Message> out;
    for (auto& raw : connection->sent) {
      EXPECT_LE(raw.size(), mtu);
      auto d = decode(raw);
      EXPECT_TRUE(d.message) << decodeErrorName(d.error);
      if (d.message) out.push_back(*d.message);
    }
    connection->sent.clear();
    return out;
  }
  void host(const Message& m) { session->onHostMessage(encode(m)); }
  void hostRaw(const Bytes& b) { session->onHostMessage(b); }

  // LMS's side of the handshake (§2.2).
  void establish() {
    session->start();
    auto first = sent();
    ASSERT_EQ(first.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<ProtocolVersion>(first[0]));
    host(ProtocolVersion{1, 0, 254, {}});
    auto req = sent();
    ASSERT_EQ(req.size(), 1u);
    ASSERT_EQ(std::get<ServiceRequest>(req[0]).service, kServicePfwd);
    host(ServiceAccept{std::string(kServicePfwd)});
    auto forwards = sent();
    ASSERT_EQ(forwards.size(), 2u);
    for (auto& f : forwards) {
      auto& g = std::get<GlobalRequest>(f);
      host(RequestSuccess{std::get<TcpipForward>(g.data).port});
    }
    ASSERT_EQ(session->state(), ApfSession::State::Established);
    EXPECT_TRUE(sent().empty());
  }

  // LMS opens a channel for a local client: returns the ME's channel id.
  std::uint32_t openChannel(std::uint32_t hostId, std::uint32_t window = 1024, std::uint32_t port = 16992) {
    host(ChannelOpen{std::string(kForwardedTcpip), hostId, window, kReservedMaxPacket, "127.0.0.1", port, "127.0.0.1", 5000});
    auto out = sent();
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return ~0u;
    auto* c = std::get_if<ChannelOpenConfirmation>(&out[0]);
    EXPECT_TRUE(c);
    if (!c) return ~0u;
    EXPECT_EQ(c->recipientChannel, hostId);
    EXPECT_EQ(c->initialWindow, 4096u);
    EXPECT_EQ(c->reserved, kReservedMaxPacket);
    return c->senderChannel;
  }

  std::uint32_t openFailure(std::uint32_t port, const std::string& type = std::string(kForwardedTcpip)) {
    host(ChannelOpen{type, 77, 1024, kReservedMaxPacket, "127.0.0.1", port, "127.0.0.1", 5000});
    auto out = sent();
    EXPECT_EQ(out.size(), 1u);
    if (out.empty()) return 0;
    auto* f = std::get_if<ChannelOpenFailure>(&out[0]);
    EXPECT_TRUE(f);
    if (!f) return 0;
    EXPECT_EQ(f->recipientChannel, 77u);
    return f->reason;
  }

  void expectDisconnect(std::uint32_t reason) {
    auto out = sent();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(std::holds_alternative<Disconnect>(out[0]));
    EXPECT_EQ(std::get<Disconnect>(out[0]).reason, reason);
    EXPECT_EQ(session->state(), ApfSession::State::Closed);
  }

  std::shared_ptr<test::RecordingConnection> connection;
  std::shared_ptr<ApfSession> session;
  std::vector<std::shared_ptr<FakePeer>> peers;
  std::vector<std::uint32_t> requestedPorts;
  bool refuseFactory = false;
  std::size_t mtu = 4096;
};

TEST_F(ApfSessionTest, MeSpeaksFirstWithVersionAndUuid) {
  session->start();
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto& pv = std::get<ProtocolVersion>(out[0]);
  EXPECT_EQ(pv.major, 1u);
  EXPECT_EQ(pv.minor, 0u);
  EXPECT_EQ(pv.uuid[0], 1);
  EXPECT_EQ(pv.uuid[15], 16);
}

TEST_F(ApfSessionTest, LmsHandshakeForwardsManagementAndRedirectionPorts) {
  session->start();
  sent();
  host(ProtocolVersion{1, 0, 254, {}});
  auto req = sent();
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(std::get<ServiceRequest>(req[0]).service, "pfwd@amt.intel.com");
  host(ServiceAccept{"pfwd@amt.intel.com"});
  auto forwards = sent();
  ASSERT_EQ(forwards.size(), 2u);
  std::vector<std::uint32_t> ports;
  for (auto& f : forwards) {
    auto& g = std::get<GlobalRequest>(f);
    EXPECT_EQ(g.name, "tcpip-forward");
    EXPECT_TRUE(g.wantReply);
    EXPECT_EQ(std::get<TcpipForward>(g.data).address, "");
    ports.push_back(std::get<TcpipForward>(g.data).port);
  }
  EXPECT_EQ(ports, (std::vector<std::uint32_t>{16992, 623}));
  host(RequestSuccess{16992});
  host(RequestFailure{});  // 623 needs root for LMS: refused, the session carries on
  EXPECT_EQ(session->forwardedPorts(), (std::vector<std::uint32_t>{16992}));
  EXPECT_EQ(session->state(), ApfSession::State::Established);
}

TEST_F(ApfSessionTest, TlsOnLocalPortsForwards16993And664) {
  ApfSessionOptions o;
  o.tlsOnLocalPorts = true;
  create(o);
  session->start();
  host(ProtocolVersion{1, 0, 254, {}});
  host(ServiceAccept{"pfwd@amt.intel.com"});
  auto out = sent();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(std::get<TcpipForward>(std::get<GlobalRequest>(out[2]).data).port, 16993u);
  EXPECT_EQ(std::get<TcpipForward>(std::get<GlobalRequest>(out[3]).data).port, 664u);
}

TEST_F(ApfSessionTest, DuplicateProtocolVersionInAnyOrderIsAccepted) {
  // rpc-go: its own PROTOCOLVERSION and an echo of the ME's (§2.2).
  session->start();
  sent();
  host(ProtocolVersion{1, 0, 9, {}});
  host(ProtocolVersion{1, 0, 1, {}});
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<ServiceRequest>(out[0]));
  host(ServiceAccept{"pfwd@amt.intel.com"});
  host(ProtocolVersion{1, 0, 9, {}});  // even after the handshake
  EXPECT_EQ(sent().size(), 2u);
  EXPECT_EQ(session->state(), ApfSession::State::Established);
}

TEST_F(ApfSessionTest, OldHostVersionIsRefused) {
  session->start();
  sent();
  host(ProtocolVersion{0, 9, 254, {}});
  expectDisconnect(8);
}

TEST_F(ApfSessionTest, UserauthBeforePfwdWhenConfigured) {
  ApfSessionOptions o;
  o.authenticate = true;
  o.authUser = "lme";
  o.authPassword = "secret";
  create(o);
  session->start();
  sent();
  host(ProtocolVersion{1, 0, 254, {}});
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ServiceRequest>(out[0]).service, "auth@amt.intel.com");
  host(ServiceAccept{"auth@amt.intel.com"});
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto& auth = std::get<UserauthRequest>(out[0]);
  EXPECT_EQ(auth.user, "lme");
  EXPECT_EQ(auth.service, "pfwd@amt.intel.com");
  EXPECT_EQ(auth.method, "password");
  EXPECT_EQ(auth.password, std::optional<std::string>("secret"));
  host(UserauthSuccess{});
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ServiceRequest>(out[0]).service, "pfwd@amt.intel.com");
  host(ServiceAccept{"pfwd@amt.intel.com"});
  EXPECT_EQ(session->state(), ApfSession::State::Established);
}

TEST_F(ApfSessionTest, UserauthFailureDisconnects) {
  ApfSessionOptions o;
  o.authenticate = true;
  create(o);
  session->start();
  host(ProtocolVersion{1, 0, 254, {}});
  host(ServiceAccept{"auth@amt.intel.com"});
  sent();
  host(UserauthFailure{"password", false});
  expectDisconnect(14);
}

TEST_F(ApfSessionTest, ChannelTrafficBeforeTheHandshakeIsAProtocolError) {
  session->start();
  sent();
  host(ChannelOpen{std::string(kForwardedTcpip), 1, 1024, kReservedMaxPacket, "127.0.0.1", 16992, "127.0.0.1", 1});
  expectDisconnect(2);
  host(ProtocolVersion{1, 0, 254, {}});  // ignored now: the host must reconnect
  EXPECT_TRUE(sent().empty());
  EXPECT_TRUE(requestedPorts.empty());
}

TEST_F(ApfSessionTest, MalformedAndTruncatedMessagesDisconnect) {
  establish();
  openChannel(5);
  hostRaw({94, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2});  // CHANNEL_DATA claiming 256 bytes, carrying 2
  expectDisconnect(2);
  ASSERT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers[0]->closed);
  EXPECT_EQ(session->openChannels(), 0u);
}

TEST_F(ApfSessionTest, EmptyMessageDisconnects) {
  establish();
  hostRaw({});
  expectDisconnect(2);
}

TEST_F(ApfSessionTest, UnknownTypesAndKeepalivesAreHandledLikeLms) {
  establish();
  hostRaw({7, 1, 2, 3});
  hostRaw({250, 0, 0, 0, 0});
  EXPECT_TRUE(sent().empty());
  host(KeepaliveRequest{42});
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<KeepaliveReply>(out[0]).cookie, 42u);
  EXPECT_EQ(session->state(), ApfSession::State::Established);
}

TEST_F(ApfSessionTest, OpenToWsmanPortIsConfirmed) {
  establish();
  auto id = openChannel(9);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(requestedPorts, (std::vector<std::uint32_t>{16992}));
  EXPECT_EQ(session->openChannels(), 1u);
}

TEST_F(ApfSessionTest, RefusedOpensCarryTheRightReasons) {
  establish();
  EXPECT_EQ(openFailure(623), 2u);
  EXPECT_EQ(openFailure(664), 2u);
  EXPECT_EQ(openFailure(22), 1u);
  EXPECT_EQ(openFailure(16992, "session"), 3u);
  refuseFactory = true;
  EXPECT_EQ(openFailure(16993), 2u);
  EXPECT_EQ(session->openChannels(), 0u);
}

TEST_F(ApfSessionTest, PoolOfEightThenResourceShortage) {
  establish();
  for (std::uint32_t i = 0; i < 8; ++i) EXPECT_EQ(openChannel(100 + i), i);
  EXPECT_EQ(openFailure(16992), 4u);
  // A slot frees only with CHANNEL_CLOSE (§2.4).
  host(ChannelClose{3});
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ChannelClose>(out[0]).recipientChannel, 103u);
  EXPECT_TRUE(peers[3]->closed);
  EXPECT_EQ(openChannel(200), 3u);
  EXPECT_EQ(session->stats().channelsOpened, 9u);
  EXPECT_EQ(session->stats().channelsClosed, 1u);
  EXPECT_EQ(session->stats().openFailures, 1u);
}

TEST_F(ApfSessionTest, HostDataReachesThePeerAndWindowIsGrantedBack) {
  establish();
  auto id = openChannel(5);
  Bytes request(1500, 'x');
  host(ChannelData{id, request});
  Bytes all = request;
  EXPECT_EQ(peers[0]->written, all);
  EXPECT_TRUE(sent().empty());  // no adjust before the peer took the bytes
  peers[0]->completeWrites();
  EXPECT_TRUE(sent().empty());  // nor before half the 4096-byte window is used
  host(ChannelData{id, Bytes(600, 'y')});
  peers[0]->completeWrites();
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto& adjust = std::get<ChannelWindowAdjust>(out[0]);
  EXPECT_EQ(adjust.recipientChannel, 5u);
  EXPECT_EQ(adjust.bytesToAdd, 2100u);
  EXPECT_EQ(session->stats().windowViolations, 0u);
}

TEST_F(ApfSessionTest, DataToHostNeverExceedsTheHostWindow) {
  establish();
  auto id = openChannel(5, 1024);
  Bytes response(5000);
  for (std::size_t i = 0; i < response.size(); ++i) response[i] = static_cast<std::uint8_t>(i);
  peers[0]->feed(response);
  Bytes received;
  std::size_t outstanding = 0;
  for (int round = 0; round < 10 && received.size() < response.size(); ++round) {
    for (auto& m : sent()) {
      auto& data = std::get<ChannelData>(m);
      EXPECT_EQ(data.recipientChannel, 5u);
      outstanding += data.data.size();
      received.insert(received.end(), data.data.begin(), data.data.end());
    }
    EXPECT_LE(outstanding, 1024u);
    EXPECT_TRUE(sent().empty());  // stalled until the adjust
    host(ChannelWindowAdjust{id, static_cast<std::uint32_t>(outstanding)});  // LMS: adjust after each write
    outstanding = 0;
  }
  EXPECT_EQ(received, response);
  EXPECT_TRUE(peers[0]->pendingRead);  // reading again once drained
}

TEST_F(ApfSessionTest, DataChunksRespectMtuAndLmsLimit) {
  establish();
  auto id = openChannel(5, 1u << 20);
  peers[0]->feed(Bytes(10000, 'y'));
  for (auto& m : sent()) EXPECT_LE(std::get<ChannelData>(m).data.size(), 4096u - 9);
  (void)id;

  ApfSessionOptions big;
  big.maxMessageLength = 16384;
  create(big);
  peers.clear();
  establish();
  openChannel(6, 1u << 20);
  peers[0]->feed(Bytes(10000, 'z'));
  std::size_t total = 0;
  for (auto& m : sent()) {
    auto size = std::get<ChannelData>(m).data.size();
    EXPECT_LE(size, 4095u);  // LMS drops anything larger (§2.5)
    total += size;
  }
  EXPECT_EQ(total, 10000u);
}

TEST_F(ApfSessionTest, StalledWindowRecoversWithAdjust) {
  establish();
  auto id = openChannel(5, 0);  // a host that grants nothing at first
  EXPECT_FALSE(peers[0]->pendingRead);  // nothing read from the peer while the window is shut
  host(ChannelWindowAdjust{id, 100});
  ASSERT_TRUE(peers[0]->pendingRead);
  EXPECT_LE(peers[0]->readMax, 16384u);
  peers[0]->feed(Bytes(300, 'a'));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ChannelData>(out[0]).data.size(), 100u);
  host(ChannelWindowAdjust{id, 1000});
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ChannelData>(out[0]).data.size(), 200u);
}

TEST_F(ApfSessionTest, PeerEndOfStreamClosesAfterTheDataAndWaitsForTheHost) {
  establish();
  auto id = openChannel(5, 1024);
  peers[0]->feed(Bytes(1500, 'r'));
  sent();
  host(ChannelWindowAdjust{id, 1024});
  peers[0]->feed({});  // the WS-Man side closed
  auto out = sent();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<ChannelData>(out[0]).data.size(), 476u);
  EXPECT_EQ(std::get<ChannelClose>(out[1]).recipientChannel, 5u);
  EXPECT_EQ(session->openChannels(), 1u);  // until LMS answers
  EXPECT_EQ(session->stats().channelsClosed, 0u);
  host(ChannelClose{id});
  EXPECT_TRUE(sent().empty());  // no second echo
  EXPECT_EQ(session->openChannels(), 0u);
  EXPECT_EQ(session->stats().channelsClosed, 1u);
  EXPECT_EQ(session->stats().bytesToHost, 1500u);
}

TEST_F(ApfSessionTest, PeerWriteFailureClosesTheChannel) {
  establish();
  auto id = openChannel(5);
  host(ChannelData{id, Bytes(10, 'q')});
  peers[0]->completeWrites(false);
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ChannelClose>(out[0]).recipientChannel, 5u);
  EXPECT_TRUE(peers[0]->closed);
}

TEST_F(ApfSessionTest, UnknownChannelIdsAreIgnored) {
  establish();
  host(ChannelData{6, Bytes(3, 'x')});
  host(ChannelWindowAdjust{6, 100});
  host(ChannelClose{6});
  host(ChannelClose{0xFFFFFFFF});
  host(ChannelOpenConfirmation{6, 1, 1024, kReservedMaxPacket});
  host(ChannelOpenFailure{6, 1});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(session->state(), ApfSession::State::Established);
  EXPECT_EQ(session->stats().ignored, 6u);
}

TEST_F(ApfSessionTest, HostDisconnectAndConnectionEndCloseEveryPeer) {
  establish();
  openChannel(1);
  openChannel(2);
  host(Disconnect{11});
  EXPECT_TRUE(sent().empty());
  EXPECT_EQ(session->state(), ApfSession::State::Closed);
  EXPECT_TRUE(peers[0]->closed && peers[1]->closed);
  EXPECT_EQ(session->openChannels(), 0u);
  EXPECT_EQ(session->stats().channelsClosed, 2u);

  create({});
  peers.clear();
  establish();
  openChannel(1);
  host(ChannelData{0, Bytes(10, 'x')});
  session->end();
  EXPECT_TRUE(peers[0]->closed);
  EXPECT_EQ(session->openChannels(), 0u);
  EXPECT_TRUE(sent().empty());
}

TEST_F(ApfSessionTest, HostIgnoringTheWindowMeetsMeiBackPressure) {
  ApfSessionOptions o;
  o.maxBufferedFromHost = 8192;
  create(o);
  establish();
  auto id = openChannel(5);
  for (int i = 0; i < 4; ++i) host(ChannelData{id, Bytes(3000, 'f')});
  EXPECT_GT(session->stats().windowViolations, 0u);
  EXPECT_TRUE(connection->paused);
  peers[0]->completeWrites();
  EXPECT_FALSE(connection->paused);
}

TEST_F(ApfSessionTest, CancelForwardAndUdpSendTo) {
  establish();
  bool result = false;
  ASSERT_TRUE(session->cancelForward(16992, [&](bool ok) { result = ok; }));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto& g = std::get<GlobalRequest>(out[0]);
  EXPECT_EQ(g.name, "cancel-tcpip-forward");
  EXPECT_EQ(std::get<TcpipForward>(g.data).port, 16992u);
  host(RequestSuccess{});
  EXPECT_TRUE(result);
  EXPECT_EQ(session->forwardedPorts(), (std::vector<std::uint32_t>{623}));

  ASSERT_TRUE(session->sendUdp(UdpSendTo{"127.0.0.1", 16997, "127.0.0.1", 16997, Bytes{1, 2}}));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(std::get<GlobalRequest>(out[0]).wantReply);
  host(RequestFailure{});  // MC-LME answers it anyway: ignored
  EXPECT_EQ(session->state(), ApfSession::State::Established);
}

TEST_F(ApfSessionTest, HostGlobalRequestIsRefused) {
  establish();
  host(GlobalRequest{std::string(kTcpipForward), true, TcpipForward{"", 80}});
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<RequestFailure>(out[0]));
}

TEST_F(ApfSessionTest, MeOpenedEventChannelCarriesTheNotification) {
  establish();
  UserNotification n;
  n.messageId = "iAMT0005";
  n.messageArguments = "1";
  n.message = "Hello <LMS>";
  Bytes request = makeLmsEventRequest(n);
  auto peer = std::make_shared<BufferPeer>(request);
  bool confirmed = false;
  ASSERT_TRUE(session->openDirectChannel("127.0.0.1", 0, peer, [&](bool ok) { confirmed = ok; }));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  auto& open = std::get<ChannelOpen>(out[0]);
  EXPECT_EQ(open.channelType, "direct-tcpip");
  EXPECT_EQ(open.connectedPort, 0u);
  EXPECT_EQ(open.senderChannel, 8u);  // after the forwarded pool
  host(ChannelOpenConfirmation{open.senderChannel, 31, 1024, kReservedMaxPacket});
  EXPECT_TRUE(confirmed);
  Bytes received;
  for (int round = 0; round < 20; ++round) {
    auto msgs = sent();
    if (msgs.empty()) break;
    std::uint32_t got = 0;
    for (auto& m : msgs) {
      auto& d = std::get<ChannelData>(m);
      EXPECT_EQ(d.recipientChannel, 31u);
      got += static_cast<std::uint32_t>(d.data.size());
      received.insert(received.end(), d.data.begin(), d.data.end());
    }
    EXPECT_LE(got, 1024u);
    host(ChannelWindowAdjust{open.senderChannel, got});
  }
  EXPECT_EQ(received, request);
  std::string text(received.begin(), received.end());
  EXPECT_EQ(text.rfind("POST / HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(text.find("Host: localhost:0\r\n"), std::string::npos);
  EXPECT_NE(text.find("User-Agent: Intel(R) AMT Agent\r\n"), std::string::npos);
  EXPECT_NE(text.find("<g:MessageID>iAMT0005</g:MessageID>"), std::string::npos);
  EXPECT_NE(text.find("<g:MessageArguments>1</g:MessageArguments>"), std::string::npos);
  EXPECT_NE(text.find("<g:Message>Hello &lt;LMS&gt;</g:Message>"), std::string::npos);
  auto body = text.find("\r\n\r\n") + 4;
  EXPECT_NE(text.find("Content-Length: " + std::to_string(text.size() - body) + "\r\n"), std::string::npos);
  // LMS parses, never answers, and closes (§2.7).
  host(ChannelClose{open.senderChannel});
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ChannelClose>(out[0]).recipientChannel, 31u);
  EXPECT_TRUE(peer->closed());
  EXPECT_EQ(session->openChannels(), 0u);
}

TEST_F(ApfSessionTest, RefusedEventChannelIsFreed) {
  establish();
  bool confirmed = true;
  ASSERT_TRUE(session->openDirectChannel("127.0.0.1", 0, std::make_shared<BufferPeer>(Bytes{1}),
                                         [&](bool ok) { confirmed = ok; }));
  auto open = std::get<ChannelOpen>(sent()[0]);
  host(ChannelOpenFailure{open.senderChannel, 2});
  EXPECT_FALSE(confirmed);
  EXPECT_EQ(session->openChannels(), 0u);
  EXPECT_EQ(session->stats().channelsClosed, 0u) << "never open, so never closed";
}

// The FirmwareClient over a platform model: sessions per connection, UUID from the platform, clean teardown.
TEST(LmeClient, PropertiesAndSessionsPerConnection) {
  test::TempDir dir("lme");
  auto opened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(opened) << opened.error().message;
  auto platform = std::move(*opened);
  LmeClient client(*platform, nullptr);
  auto props = client.properties();
  EXPECT_EQ(props.uuid.toString(), "6733A4DB-0476-4E7B-B3AF-BCFC29BEE7A7");
  EXPECT_EQ(props.uuid.bytes[0], 0xDB);  // uuid_le
  EXPECT_EQ(props.maxMsgLength, 4096u);

  auto a = std::make_shared<test::RecordingConnection>(1);
  auto b = std::make_shared<test::RecordingConnection>(2);
  client.onConnect(a);
  client.onConnect(b);
  EXPECT_EQ(client.stats().sessions, 2u);
  ASSERT_EQ(a->sent.size(), 1u);
  auto pv = std::get<ProtocolVersion>(*decode(a->sent[0]).message);
  EXPECT_EQ(pv.uuid, uuidToWire(platform->uuid()));
  client.onMessage(a, encode(ProtocolVersion{1, 0, 254, {}}));
  client.onMessage(a, encode(ServiceAccept{"pfwd@amt.intel.com"}));
  EXPECT_EQ(client.stats().established, 1u);
  EXPECT_EQ(client.sendUserNotification({}), 1u);
  client.onDisconnect(a);
  client.onDisconnect(b);
  EXPECT_EQ(client.stats().sessions, 0u);
  EXPECT_EQ(client.stats().channels, 0u);
  EXPECT_EQ(client.stats().sessionsStarted, 2u);
  EXPECT_EQ(client.stats().channelsOpened, 0u) << "the event channel was never confirmed";
  EXPECT_EQ(client.stats().channelsClosed, 0u);
}

}  // namespace
}  // namespace mesim::lme
