// wsman/http: Digest codec and state, AMT's HTTP answers, sessions over Beast's in-memory test stream, and
// the real listeners (timeouts, TLS) over loopback sockets. Digest responses are computed here with OpenSSL's
// MD5 directly, not with the code under test.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <regex>
#include <set>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http.hpp>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/platform_model.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/http_responses.h"
#include "wsman/http/tls_identity.h"
#include "wsman/http/wsman_http_server.h"

namespace mesim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;
using wsman::http::WsmanHttpOptions;
using wsman::http::WsmanHttpServer;
using wsman::http::WsmanReply;
using wsman::http::WsmanRequest;
using wsman::http::WsmanResponse;
using wsman::http::WebRequest;
using wsman::http::WebResponse;
using wsman::http::WebService;
using Response = bhttp::response<bhttp::string_body>;

constexpr const char* kPassword = "P@ssw0rd";
const std::string kEnvelope = "<Envelope>hello</Envelope>";

// ---------------------------------------------------------------------------------------------
// Independent client-side Digest (OpenSSL EVP directly)
// ---------------------------------------------------------------------------------------------

std::string md5(const std::string& s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(s.data(), s.size(), d, &n, EVP_md5(), nullptr), 1);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out.push_back(hex[d[i] >> 4]);
    out.push_back(hex[d[i] & 15]);
  }
  return out;
}

std::string nonceOf(const std::string& wwwAuthenticate) {
  std::smatch m;
  if (!std::regex_search(wwwAuthenticate, m, std::regex("nonce=\"([^\"]+)\""))) return {};
  return m[1];
}

std::string authorization(const std::string& user, const std::string& password, const std::string& realm,
                          const std::string& nonce, unsigned nc, const std::string& uri = "/wsman",
                          const std::string& cnonce = "0a4f113b") {
  char ncText[9];
  std::snprintf(ncText, sizeof ncText, "%08x", nc);
  const std::string ha1 = md5(user + ":" + realm + ":" + password);
  const std::string ha2 = md5("POST:" + uri);
  const std::string response = md5(ha1 + ":" + nonce + ":" + ncText + ":" + cnonce + ":auth:" + ha2);
  // MeshCentral's style: qop and nc unquoted (spec/wsman.md §2.1).
  return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri +
         "\", qop=auth, nc=" + ncText + ", cnonce=\"" + cnonce + "\", response=\"" + response + "\"";
}

std::string post(const std::string& body, const std::string& auth = {}, const std::string& extra = {}) {
  std::string r = "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:16992\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n";
  if (!auth.empty()) r += "Authorization: " + auth + "\r\n";
  r += extra;
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return r;
}

// An AMT_AuditLog record decoded by hand (spec/wsman.md §3.6 and MeshCentral's amt.js reader).
struct AuditRecord {
  unsigned app = 0, event = 0, initiatorType = 0;
  std::string initiator;
  std::uint32_t time = 0;
  unsigned locationType = 0;
  std::string address;
  std::vector<std::uint8_t> extended;
};

std::optional<AuditRecord> decodeAudit(const std::vector<std::uint8_t>& e) {
  AuditRecord r;
  std::size_t p = 0;
  auto need = [&](std::size_t n) { return p + n <= e.size(); };
  if (!need(5)) return std::nullopt;
  r.app = e[0] << 8 | e[1];
  r.event = e[2] << 8 | e[3];
  r.initiatorType = e[4];
  p = 5;
  if (r.initiatorType == 0) {
    if (!need(1) || !need(1 + e[p])) return std::nullopt;
    r.initiator.assign(e.begin() + p + 1, e.begin() + p + 1 + e[p]);
    p += 1 + e[p];
  }
  if (!need(6)) return std::nullopt;
  r.time = static_cast<std::uint32_t>(e[p] << 24 | e[p + 1] << 16 | e[p + 2] << 8 | e[p + 3]);
  r.locationType = e[p + 4];
  p += 5;
  if (!need(1 + e[p])) return std::nullopt;
  r.address.assign(e.begin() + p + 1, e.begin() + p + 1 + e[p]);
  p += 1 + e[p];
  if (!need(1) || p + 1 + e[p] != e.size()) return std::nullopt;
  r.extended.assign(e.begin() + p + 1, e.end());
  return r;
}

// Parses one complete response from the front of `raw`; nullopt if it is not complete yet.
std::optional<Response> parseResponse(std::string& raw) {
  bhttp::response_parser<bhttp::string_body> p;
  p.eager(true);
  p.body_limit(16 * 1024 * 1024);
  beast::error_code ec;
  std::size_t used = p.put(asio::buffer(raw), ec);
  if (ec || !p.is_done()) return std::nullopt;
  raw.erase(0, used);
  return p.release();
}

// ---------------------------------------------------------------------------------------------
// Fixture: a platform in a temp dir, a manual firmware clock, the server and a recording handler
// ---------------------------------------------------------------------------------------------

class WsmanHttpTest : public ::testing::Test {
 protected:
  WsmanHttpTest() : quiet_(log::Level::Error) {
    platform::PlatformDefaults defaults;
    defaults.adminPassword = kPassword;
    auto opened = platform::PlatformModel::open(dir_.path(), defaults);
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened) platform_ = std::move(*opened);
    options_.httpPort = -1;
    options_.httpsPort = -1;
    options_.stateDir = dir_.path();
    options_.clock = &clock_;
  }

  ~WsmanHttpTest() override {
    clients_.clear();
    if (server_) server_->stop();
    settle();
    server_.reset();
    settle();
  }

  WsmanHttpServer& server() {
    if (!server_) {
      server_ = std::make_unique<WsmanHttpServer>(io_, *platform_, options_);
      server_->setHandler([this](WsmanRequest request, WsmanReply reply) {
        requests_.push_back(request);
        if (dropReplies_) return;  // the reply dies unanswered
        WsmanResponse response;
        response.body = replyBody_.empty() ? "<echo user=\"" + request.user + "\">" + request.body + "</echo>" : replyBody_;
        reply(std::move(response));
      });
      server_->setAnonymousPredicate(
          [](std::string_view body) { return body.find("<wsmid:Identify/>") != std::string_view::npos; });
    }
    return *server_;
  }

  void settle() {
    io_.restart();
    io_.run_for(20ms);
  }

  // Runs the loop until `done` or `limit` passes.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io_.restart();
      io_.run_for(2ms);
    }
    return true;
  }

  // A new in-memory connection served as if from 127.0.0.1.
  beast::test::stream& connect(bool local = false) { return connectFrom(local ? "lms" : "127.0.0.1", local); }

  // The same from `address`, counted against the local listener if `local`.
  beast::test::stream& connectFrom(const std::string& address, bool local = false) {
    clients_.push_back(std::make_unique<beast::test::stream>(io_));
    beast::test::stream remote(io_);
    clients_.back()->connect(remote);
    wsman::http::detail::ConnectionInfo info;
    info.peerAddress = address;
    info.local = local;
    server().serveStream(std::move(remote), std::move(info));
    return *clients_.back();
  }

  // Sends `raw` and waits for one whole response.
  Response exchange(beast::test::stream& client, const std::string& raw) {
    asio::write(client, asio::buffer(raw));
    return readResponse(client);
  }

  Response readResponse(beast::test::stream& client) {
    std::optional<Response> res;
    std::string pending;
    EXPECT_TRUE(runUntil([&] {
      pending += client.str();
      client.clear();
      lastRaw_ = pending;
      res = parseResponse(pending);
      return res.has_value();
    })) << "no complete response; got: " << pending;
    return res ? *res : Response{};
  }

  bool closedByServer(beast::test::stream& client) {
    // A read on a stream the server closed ends with eof once the data is consumed.
    client.clear();
    bool done = false;
    beast::error_code error;
    std::array<char, 64> buf{};
    client.async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t) {
      done = true;
      error = ec;
    });
    if (!runUntil([&] { return done; }, 500ms)) {
      client.close();  // cancels our read
      runUntil([&] { return done; });
      return false;
    }
    return error == asio::error::eof;
  }

  std::string realm() const { return platform_->digestRealm(); }

  // The 401 challenge of a fresh connection, then the nonce from it.
  std::string freshNonce() {
    auto& c = connect();
    auto res = exchange(c, post(kEnvelope));
    EXPECT_EQ(res.result_int(), 401u);
    return nonceOf(std::string(res[bhttp::field::www_authenticate]));
  }

  // One Digest login as `user` on a new connection, with the next nonce count: the HTTP status it got.
  unsigned login(const std::string& user, const std::string& password, const std::string& nonce, unsigned& nc) {
    auto& c = connect();
    return exchange(c, post(kEnvelope, authorization(user, password, realm(), nonce, nc++))).result_int();
  }

  std::vector<AuditRecord> auditRecords() const {
    std::vector<AuditRecord> out;
    for (const auto& bytes : platform_->state().logs.auditLog) {
      auto r = decodeAudit(bytes);
      EXPECT_TRUE(r.has_value());
      if (r) out.push_back(*r);
    }
    return out;
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"wsman-http"};
  core::ManualFirmwareClock clock_{std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};
  asio::io_context io_;
  std::unique_ptr<platform::PlatformModel> platform_;
  WsmanHttpOptions options_;
  std::unique_ptr<WsmanHttpServer> server_;
  std::vector<std::unique_ptr<beast::test::stream>> clients_;
  std::vector<WsmanRequest> requests_;
  bool dropReplies_ = false;
  std::string replyBody_;
  std::string lastRaw_;
};

// ---------------------------------------------------------------------------------------------
// Codec
// ---------------------------------------------------------------------------------------------

TEST(DigestCodec, Rfc2617ExampleMatchesIndependentMd5) {
  // RFC 2617 §3.5 (GET, qop=auth).
  const std::string ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life");
  EXPECT_EQ(wsman::http::digestResponse(ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
                                        "GET", "/dir/index.html"),
            "6629fae49393a05397450978507c4ef1");
  EXPECT_EQ(wsman::http::md5Hex("abc"), md5("abc"));
}

TEST(DigestCodec, ParsesQuotedUnquotedAndEscapedParameters) {
  auto c = wsman::http::parseDigestAuthorization(
      "digest username=\"ad\\\"min\",realm=\"Digest:00\", nonce=\"a/b+c\", uri=\"/wsman\", qop=auth, nc=00000001, "
      "cnonce=\"x\", response=\"0123\", algorithm=MD5, extra=\"ignored\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "ad\"min");
  EXPECT_EQ(c->realm, "Digest:00");
  EXPECT_EQ(c->nonce, "a/b+c");
  EXPECT_EQ(c->qop, "auth");
  EXPECT_EQ(c->nc, "00000001");
  EXPECT_EQ(c->algorithm, "MD5");
  EXPECT_FALSE(wsman::http::parseDigestAuthorization("Basic YWRtaW46cGFzcw=="));
  EXPECT_FALSE(wsman::http::parseDigestAuthorization("Digest username=\"a\", username=\"b\""));  // repeated
  EXPECT_FALSE(wsman::http::parseDigestAuthorization("Digest username=\"unterminated"));
  EXPECT_FALSE(wsman::http::parseDigestAuthorization("Digest"));
  EXPECT_FALSE(wsman::http::parseDigestAuthorization("Digestusername=\"a\""));
}

TEST(DigestCodec, NoncesLookLikeAmtsAndAreNeverReused) {
  wsman::http::NonceStore store(300s, 4);
  const wsman::http::TimePoint t0{};
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto n = store.issue(t0);
    EXPECT_EQ(n.size(), 32u);
    EXPECT_EQ(n.find('='), std::string::npos);
    EXPECT_TRUE(std::regex_match(n, std::regex("[A-Za-z0-9+/]{32}")));
    EXPECT_TRUE(seen.insert(n).second);
  }
  EXPECT_EQ(store.size(), 4u);  // oldest forgotten
  auto n = store.issue(t0);
  using Use = wsman::http::NonceStore::Use;
  EXPECT_EQ(store.use(n, 1, t0), Use::First);
  EXPECT_EQ(store.use(n, 2, t0), Use::Again);
  EXPECT_EQ(store.use(n, 2, t0), Use::Replay);
  EXPECT_EQ(store.use(n, 1, t0), Use::Replay);
  EXPECT_EQ(store.use(n, 3, t0 + 301s), Use::Stale);
  EXPECT_EQ(store.use("never-issued", 1, t0), Use::Stale);
}

// #10 item 6: a flood of challenges from one address forgets only that address's nonces.
TEST(DigestCodec, AFloodFromOneAddressKeepsAnotherClientsNonce) {
  wsman::http::NonceStore store(300s, 16, 4);
  const wsman::http::TimePoint t0{};
  using Use = wsman::http::NonceStore::Use;
  const auto console = store.issue(t0, "192.0.2.10");
  for (int i = 0; i < 5000; ++i) store.issue(t0, "198.51.100.66");
  EXPECT_EQ(store.size(), 5u) << "4 of the flooder's and the console's";
  EXPECT_EQ(store.use(console, 1, t0 + 1s), Use::First);
  // Many addresses together still stay within the total: the largest holder gives way first, then the oldest.
  std::vector<std::string> clients;
  for (int a = 0; a < 12; ++a) clients.push_back(store.issue(t0, "203.0.113." + std::to_string(a)));
  EXPECT_EQ(store.size(), 16u);
  EXPECT_EQ(store.use(console, 2, t0 + 2s), Use::Again) << "the flooder's nonces went first";
  for (int a = 12; a < 40; ++a) clients.push_back(store.issue(t0, "203.0.113." + std::to_string(a)));
  EXPECT_EQ(store.size(), 16u);
  EXPECT_EQ(store.use(clients.back(), 1, t0 + 2s), Use::First);
  EXPECT_EQ(store.use(clients.front(), 1, t0 + 2s), Use::Stale) << "the oldest went";
  // Expired nonces leave their address's list too: the address can get new ones.
  const auto old = store.issue(t0, "192.0.2.20");
  EXPECT_EQ(store.use(old, 1, t0 + 301s), Use::Stale);
  EXPECT_EQ(store.use(old, 1, t0 + 1s), Use::Stale) << "forgotten";
}

TEST(HttpResponses, AmtPageChunksAndDate) {
  EXPECT_EQ(wsman::http::unauthorizedPage().size(), 693u);  // the Content-Length AMT 15 sends
  EXPECT_EQ(wsman::http::chunked("abc", 2), "0002\r\nab\r\n0001\r\nc\r\n0\r\n\r\n");
  EXPECT_EQ(wsman::http::chunked(""), "0\r\n\r\n");
  EXPECT_EQ(wsman::http::httpDate(std::chrono::system_clock::time_point(std::chrono::seconds(1643282316))),
            "Thu, 27 Jan 2022 11:18:36 GMT");
  EXPECT_EQ(("Server: " + wsman::http::serverHeaderValue("")).size(), 46u);  // MeshCentral's prefix length
}

// ---------------------------------------------------------------------------------------------
// Digest over HTTP (in-memory streams)
// ---------------------------------------------------------------------------------------------

TEST_F(WsmanHttpTest, FirstRequestGetsAmtStyle401ThenDigestSucceeds) {
  auto& c1 = connect();
  auto challenge = exchange(c1, post(kEnvelope));
  EXPECT_EQ(challenge.result_int(), 401u);
  const std::string www(challenge[bhttp::field::www_authenticate]);
  EXPECT_TRUE(std::regex_match(www, std::regex("Digest realm=\"" + realm() +
                                               "\", nonce=\"[A-Za-z0-9+/]{32}\",stale=\"false\",qop=\"auth\"")))
      << www;
  EXPECT_EQ(challenge[bhttp::field::content_type], "text/html");
  EXPECT_EQ(challenge[bhttp::field::content_length], "693");
  EXPECT_EQ(challenge[bhttp::field::connection], "close");
  EXPECT_EQ(challenge[bhttp::field::server], "Intel(R) Active Management Technology 16.1.27.2225");
  EXPECT_EQ(challenge.body(), wsman::http::unauthorizedPage());
  EXPECT_TRUE(closedByServer(c1));
  EXPECT_TRUE(requests_.empty());

  // MeshCentral reconnects after a 401 (spec §2.1).
  auto& c2 = connect();
  auto ok = exchange(c2, post(kEnvelope, authorization("admin", kPassword, realm(), nonceOf(www), 1)));
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(ok.body(), "<echo user=\"admin\">" + kEnvelope + "</echo>");
  EXPECT_EQ(ok[bhttp::field::content_type], "application/soap+xml; charset=UTF-8");
  EXPECT_EQ(ok["X-Frame-Options"], "DENY");
  EXPECT_EQ(ok[bhttp::field::transfer_encoding], "chunked");
  EXPECT_EQ(ok[bhttp::field::date], "Tue, 14 Nov 2023 22:13:20 GMT");  // the firmware clock
  EXPECT_EQ(ok[bhttp::field::server], "Intel(R) Active Management Technology 16.1.27.2225");
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].user, "admin");
  EXPECT_EQ(requests_[0].body, kEnvelope);
  EXPECT_EQ(requests_[0].peerAddress, "127.0.0.1");
  EXPECT_FALSE(requests_[0].local);
  EXPECT_EQ(server().digestStats().successes, 1u);
}

TEST_F(WsmanHttpTest, WrongPasswordIs401WithCloseAndAudited) {
  const auto nonce = freshNonce();
  auto& c = connect();
  auto res = exchange(c, post(kEnvelope, authorization("admin", "wrong", realm(), nonce, 1)));
  EXPECT_EQ(res.result_int(), 401u);
  EXPECT_EQ(res[bhttp::field::connection], "close");
  EXPECT_NE(std::string(res[bhttp::field::www_authenticate]).find("stale=\"false\""), std::string::npos);
  EXPECT_TRUE(closedByServer(c));
  EXPECT_TRUE(requests_.empty());

  auto records = auditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].app, 16u);    // Security Admin
  EXPECT_EQ(records[0].event, 5u);   // 1605 ACL Access with Invalid Credentials
  EXPECT_EQ(records[0].initiatorType, 0u);  // HTTP Digest
  EXPECT_EQ(records[0].initiator, "admin");
  EXPECT_EQ(records[0].address, "127.0.0.1");
  EXPECT_EQ(records[0].time, 1'700'000'000u);
  EXPECT_EQ(records[0].extended, std::vector<std::uint8_t>{0});  // "Invalid ME access"
}

TEST_F(WsmanHttpTest, EmptyOrShortResponseIsRejected) {  // CVE-2017-5689
  const auto nonce = freshNonce();
  const std::string good = authorization("admin", kPassword, realm(), nonce, 1);
  const std::string correct = good.substr(good.find("response=\"") + 10, 32);
  for (const std::string& response : {std::string(), correct.substr(0, 1), correct.substr(0, 31), std::string(32, 'g')}) {
    std::string header = std::regex_replace(good, std::regex("response=\"[0-9a-f]{32}\""), "response=\"" + response + "\"");
    auto& c = connect();
    auto res = exchange(c, post(kEnvelope, header));
    EXPECT_EQ(res.result_int(), 401u) << "response=\"" << response << "\"";
  }
  EXPECT_TRUE(requests_.empty());
  // The real response still works afterwards (4 failures are below the lockout threshold).
  auto& c = connect();
  EXPECT_EQ(exchange(c, post(kEnvelope, good)).result_int(), 200u);
}

TEST_F(WsmanHttpTest, ReplayedNonceCountIsRejectedAsStale) {
  const auto nonce = freshNonce();
  auto& c = connect();
  EXPECT_EQ(exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 5))).result_int(), 200u);
  auto& c2 = connect();
  auto replay = exchange(c2, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 5)));
  EXPECT_EQ(replay.result_int(), 401u);
  EXPECT_NE(std::string(replay[bhttp::field::www_authenticate]).find("stale=\"true\""), std::string::npos);
  auto& c3 = connect();
  EXPECT_EQ(exchange(c3, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 4))).result_int(), 401u);
  auto& c4 = connect();
  EXPECT_EQ(exchange(c4, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 6))).result_int(), 200u);
  EXPECT_EQ(requests_.size(), 2u);
  EXPECT_EQ(server().digestStats().replays, 2u);
  EXPECT_EQ(server().digestStats().failures, 0u);
}

TEST_F(WsmanHttpTest, ExpiredOrUnknownNonceGivesStaleTrueOnlyWithTheRightPassword) {
  const auto nonce = freshNonce();
  clock_.advance(301s);
  auto& c = connect();
  auto res = exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1)));
  EXPECT_EQ(res.result_int(), 401u);
  const std::string www(res[bhttp::field::www_authenticate]);
  EXPECT_NE(www.find("stale=\"true\""), std::string::npos);
  // The fresh nonce of that 401 works.
  auto& c2 = connect();
  EXPECT_EQ(exchange(c2, post(kEnvelope, authorization("admin", kPassword, realm(), nonceOf(www), 1))).result_int(),
            200u);
  // A nonce this server never issued: stale only if the password is right.
  auto& c3 = connect();
  auto unknown = exchange(c3, post(kEnvelope, authorization("admin", kPassword, realm(), "Zm9yZ2Vk", 1)));
  EXPECT_NE(std::string(unknown[bhttp::field::www_authenticate]).find("stale=\"true\""), std::string::npos);
  auto& c4 = connect();
  auto wrong = exchange(c4, post(kEnvelope, authorization("admin", "nope", realm(), "Zm9yZ2Vk", 1)));
  EXPECT_NE(std::string(wrong[bhttp::field::www_authenticate]).find("stale=\"false\""), std::string::npos);
}

TEST_F(WsmanHttpTest, RepeatedFailuresLockTheUserOutWithGrowingBackoff) {
  const auto nonce = freshNonce();
  unsigned nc = 1;
  auto attempt = [&](const char* password) { return login("admin", password, nonce, nc); };
  for (int i = 0; i < 10; ++i) EXPECT_EQ(attempt("wrong"), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 1u);
  EXPECT_EQ(attempt(kPassword), 401u) << "the right password is refused during the lockout";
  clock_.advance(4s);
  EXPECT_EQ(attempt(kPassword), 401u);
  clock_.advance(2s);  // first lockout: 5 s
  EXPECT_EQ(attempt(kPassword), 200u);

  // The attack goes on: the next lockout lasts 10 s.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(attempt("wrong"), 401u);
  clock_.advance(6s);
  EXPECT_EQ(attempt(kPassword), 401u);
  clock_.advance(5s);
  EXPECT_EQ(attempt(kPassword), 200u);

  // Unknown users have their own entry: the admin is not locked by them.
  for (int i = 0; i < 12; ++i) login("intruder", "x", nonce, nc);
  EXPECT_EQ(attempt(kPassword), 200u);
  // Failed attempts are audited; refused ones during a lockout are not (the log stays bounded).
  std::size_t failures = 0;
  for (const auto& r : auditRecords()) failures += r.event == wsman::http::kEventAclAccessInvalidCredentials;
  EXPECT_EQ(failures, 30u);
}

// #10 item 4: malformed Digest credentials count with the unknown names, so a flood of them locks that entry and
// stops adding audit records, instead of replacing the whole audit log; the admin is not locked by them.
TEST_F(WsmanHttpTest, MalformedCredentialsAreThrottledLikeWrongOnes) {
  for (int i = 0; i < 200; ++i) {
    auto& c = connect();
    EXPECT_EQ(exchange(c, post(kEnvelope, "Digest ,,,")).result_int(), 401u);
  }
  std::size_t failures = 0;
  for (const auto& r : auditRecords()) failures += r.event == wsman::http::kEventAclAccessInvalidCredentials;
  EXPECT_EQ(failures, 10u) << "audited until the lockout, not after";
  EXPECT_EQ(server().digestStats().lockedOutAttempts, 190u);
  auto& c = connect();
  EXPECT_EQ(exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), freshNonce(), 1))).result_int(), 200u);
}

// #10 item 12: the thresholds are options; 0 turns the lockout off.
TEST_F(WsmanHttpTest, LockoutThresholdsAreConfigurable) {
  options_.digest.lockoutThreshold = 3;
  options_.digest.lockoutInitial = 2s;
  const auto nonce = freshNonce();
  unsigned nc = 1;
  auto attempt = [&](const char* password) { return login("admin", password, nonce, nc); };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(attempt("wrong"), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 1u);
  EXPECT_EQ(attempt(kPassword), 401u);
  clock_.advance(2s);
  EXPECT_EQ(attempt(kPassword), 200u);
}

TEST_F(WsmanHttpTest, ThresholdZeroNeverLocksOut) {
  options_.digest.lockoutThreshold = 0;
  const auto nonce = freshNonce();
  unsigned nc = 1;
  for (int i = 0; i < 30; ++i) EXPECT_EQ(login("admin", "wrong", nonce, nc), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 0u);
  auto& c = connect();
  EXPECT_EQ(exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, nc++))).result_int(), 200u);
}

TEST_F(WsmanHttpTest, SuccessfulLoginIsAuditedOncePerNonce) {
  const auto nonce = freshNonce();
  auto& c = connect();
  for (unsigned nc = 1; nc <= 3; ++nc)
    EXPECT_EQ(exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, nc))).result_int(), 200u);
  auto records = auditRecords();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].event, wsman::http::kEventMesimDigestLogin);
  EXPECT_EQ(records[0].initiator, "admin");
}

TEST_F(WsmanHttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  const auto nonce = freshNonce();
  auto& c = connect();
  for (unsigned nc = 1; nc <= 5; ++nc) {
    auto res = exchange(c, post("<n>" + std::to_string(nc) + "</n>", authorization("admin", kPassword, realm(), nonce, nc)));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_TRUE(res.keep_alive());
    EXPECT_EQ(res.body(), "<echo user=\"admin\"><n>" + std::to_string(nc) + "</n></echo>");
  }
  EXPECT_EQ(requests_.size(), 5u);
  EXPECT_EQ(server().activeConnections(), 1u);
  // Connection: close from the client is honoured (still chunked: MeshCentral needs a delimited body).
  auto last = exchange(c, post("<bye/>", authorization("admin", kPassword, realm(), nonce, 6), "Connection: close\r\n"));
  EXPECT_EQ(last.result_int(), 200u);
  EXPECT_EQ(last[bhttp::field::connection], "close");
  EXPECT_EQ(last[bhttp::field::transfer_encoding], "chunked");
  EXPECT_TRUE(closedByServer(c));
}

TEST_F(WsmanHttpTest, LargeBodiesAreChunkedWithAmtChunkSizes) {
  replyBody_ = std::string(2500, 'x');
  const auto nonce = freshNonce();
  auto& c = connect();
  auto res = exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1)));
  EXPECT_EQ(res.body(), replyBody_);
  const auto headerEnd = lastRaw_.find("\r\n\r\n");
  ASSERT_NE(headerEnd, std::string::npos);
  EXPECT_EQ(lastRaw_.substr(headerEnd + 4, 6), "0400\r\n");
  EXPECT_NE(lastRaw_.find("\r\n01C4\r\n"), std::string::npos);  // 2500 - 2048 = 452
  EXPECT_EQ(lastRaw_.substr(lastRaw_.size() - 5), "0\r\n\r\n");
}

TEST_F(WsmanHttpTest, IdentifyNeedsNoCredentials) {
  auto& c = connect();
  auto res = exchange(c, post("<Envelope><Body><wsmid:Identify/></Body></Envelope>"));
  EXPECT_EQ(res.result_int(), 200u);
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(requests_[0].user, "");
}

TEST_F(WsmanHttpTest, TheOsAdminAccountLogsInFromTheHostOnly) {
  // GetLocalSystemAccount's user and password: LMS's own WS-Man clients log in with them (spec/apf.md).
  const auto& os = platform_->localSystemAccount();
  ASSERT_EQ(os.user.rfind("$$OsAdmin", 0), 0u) << os.user;
  const auto nonce = freshNonce();
  auto& local = connect(/*local=*/true);
  EXPECT_EQ(exchange(local, post(kEnvelope, authorization(os.user, os.password, realm(), nonce, 1))).result_int(), 200u);
  EXPECT_EQ(requests_.back().user, os.user);
  EXPECT_TRUE(requests_.back().local);
  auto& network = connect();
  EXPECT_EQ(exchange(network, post(kEnvelope, authorization(os.user, os.password, realm(), nonce, 2))).result_int(), 401u);
  auto& wrong = connect(/*local=*/true);
  EXPECT_EQ(exchange(wrong, post(kEnvelope, authorization(os.user, "not-it", realm(), nonce, 3))).result_int(), 401u);
}

// The OS admin name from the network is refused even with the right password, and those failures count on an
// entry of their own: they neither lock out unknown names (the back-off all invented names share) nor the host's
// own logins with the account; the host's wrong passwords lock only the OS admin name.
TEST_F(WsmanHttpTest, TheOsAdminAccountsFailuresNeverUseTheUnknownNamesLockout) {
  const auto& os = platform_->localSystemAccount();
  const auto nonce = freshNonce();
  unsigned nc = 1;
  auto fromNetwork = [&](const std::string& user, const std::string& password) {
    auto& c = connect();
    return exchange(c, post(kEnvelope, authorization(user, password, realm(), nonce, nc++))).result_int();
  };
  auto fromHost = [&](const std::string& password) {
    auto& c = connect(/*local=*/true);
    return exchange(c, post(kEnvelope, authorization(os.user, password, realm(), nonce, nc++))).result_int();
  };
  for (int i = 0; i < 15; ++i) EXPECT_EQ(fromNetwork(os.user, os.password), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 1u);  // the network entry of the OS admin name
  // Unknown names still get a full count of 10 before their (shared) lockout.
  for (int i = 0; i < 9; ++i) EXPECT_EQ(fromNetwork("intruder", "x"), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 1u);
  EXPECT_EQ(server().digestStats().lockedOutAttempts, 5u);  // the OS admin name's refused tries while locked
  // The host logs in with the account meanwhile.
  EXPECT_EQ(fromHost(os.password), 200u);
  // Locally, wrong passwords lock the OS admin name, and only it: the shared entry is untouched (9 of 10).
  for (int i = 0; i < 10; ++i) EXPECT_EQ(fromHost("wrong"), 401u);
  EXPECT_EQ(server().digestStats().lockouts, 2u);
  EXPECT_EQ(fromHost(os.password), 401u) << "locked out";
  EXPECT_EQ(fromNetwork("admin", kPassword), 200u);
  EXPECT_EQ(fromNetwork("intruder", "x"), 401u);  // the 10th unknown-name failure locks the shared entry now
  EXPECT_EQ(server().digestStats().lockouts, 3u);
  clock_.advance(6s);
  EXPECT_EQ(fromHost(os.password), 200u);
}

TEST_F(WsmanHttpTest, AclUsersAuthenticateByAccessPermission) {
  ASSERT_EQ(platform_->update([&](platform::PlatformState& s) {
    platform::AclUser net;
    net.handle = 1;
    net.user = "netuser";
    net.ha1 = md5("netuser:" + realm() + ":Secret1!");
    net.access = platform::AclAccess::NetworkOnly;
    platform::AclUser off = net;
    off.handle = 2;
    off.user = "disabled";
    off.ha1 = md5("disabled:" + realm() + ":Secret1!");
    off.enabled = false;
    s.aclUsers = {net, off};
  }), platform::ChangeResult::Ok);
  const auto nonce = freshNonce();
  auto& c1 = connect();
  EXPECT_EQ(exchange(c1, post(kEnvelope, authorization("netuser", "Secret1!", realm(), nonce, 1))).result_int(), 200u);
  EXPECT_EQ(requests_.back().user, "netuser");
  auto& c2 = connect(/*local=*/true);
  EXPECT_EQ(exchange(c2, post(kEnvelope, authorization("netuser", "Secret1!", realm(), nonce, 2))).result_int(), 401u);
  auto& c3 = connect();
  EXPECT_EQ(exchange(c3, post(kEnvelope, authorization("disabled", "Secret1!", realm(), nonce, 3))).result_int(), 401u);
  // The admin may use the local channel.
  auto& c4 = connect(/*local=*/true);
  EXPECT_EQ(exchange(c4, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 4))).result_int(), 200u);
  EXPECT_TRUE(requests_.back().local);
  EXPECT_EQ(requests_.back().peerAddress, "lms");

  // The ACL survives a restart of the platform model.
  auto opened = platform::PlatformModel::open(dir_.path(), {});
  ASSERT_TRUE(opened) << opened.error().message;
  auto reopened = std::move(*opened);
  ASSERT_EQ(reopened->state().aclUsers.size(), 2u);
  EXPECT_EQ(reopened->state().aclUsers[0].access, platform::AclAccess::NetworkOnly);
  EXPECT_FALSE(reopened->state().aclUsers[1].enabled);
}

TEST_F(WsmanHttpTest, AclUsersAreValidated) {
  auto attempt = [&](const std::function<void(platform::AclUser&)>& edit) {
    return platform_->update([&](platform::PlatformState& s) {
      platform::AclUser u;
      u.handle = 7;
      u.user = "operator";
      u.ha1 = std::string(32, 'a');
      edit(u);
      s.aclUsers = {u};
    });
  };
  EXPECT_EQ(attempt([](platform::AclUser&) {}), platform::ChangeResult::Ok);
  EXPECT_EQ(attempt([](platform::AclUser& u) { u.handle = 0; }), platform::ChangeResult::InvalidParameter);
  EXPECT_EQ(attempt([](platform::AclUser& u) { u.user = "admin"; }), platform::ChangeResult::InvalidParameter);
  EXPECT_EQ(attempt([](platform::AclUser& u) { u.user = std::string(33, 'u'); }), platform::ChangeResult::InvalidParameter);
  EXPECT_EQ(attempt([](platform::AclUser& u) { u.ha1 = "xyz"; }), platform::ChangeResult::InvalidParameter);
  EXPECT_EQ(platform_->update([](platform::PlatformState& s) {
    platform::AclUser a;
    a.handle = 1;
    a.user = "twin";
    a.ha1 = std::string(32, 'b');
    platform::AclUser b = a;
    b.handle = 2;
    s.aclUsers = {a, b};
  }), platform::ChangeResult::InvalidParameter);
}

TEST_F(WsmanHttpTest, RoutesOtherThanPostWsman) {
  auto& c = connect();
  auto root = exchange(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(root.result_int(), 303u);
  EXPECT_EQ(root[bhttp::field::location], "/logon.htm");
  EXPECT_EQ(root[bhttp::field::content_length], "0");
  auto get = exchange(c, "GET /wsman HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(get.result_int(), 405u);
  EXPECT_EQ(get[bhttp::field::allow], "POST");
  auto other = exchange(c, "POST /index.htm HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_EQ(other.result_int(), 404u);
  // Absolute-form targets are accepted (RFC 9112 §3.2.2).
  auto absolute = exchange(c, "POST http://127.0.0.1:16992/wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_EQ(absolute.result_int(), 401u);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(WsmanHttpTest, MalformedRequestIs400) {
  auto& c = connect();
  auto res = exchange(c, "POST /wsman HTTP/1.1\r\nContent-Length: abc\r\n\r\n");
  EXPECT_EQ(res.result_int(), 400u);
  EXPECT_EQ(res[bhttp::field::connection], "close");
}

TEST_F(WsmanHttpTest, Http11NeedsExactlyOneHost) {
  auto noHost = exchange(connect(), "POST /wsman HTTP/1.1\r\nContent-Length: 2\r\n\r\nab");
  EXPECT_EQ(noHost.result_int(), 400u);
  EXPECT_EQ(noHost[bhttp::field::connection], "close");
  EXPECT_EQ(exchange(connect(), "POST /wsman HTTP/1.1\r\nHost: a\r\nHost: b\r\nContent-Length: 2\r\n\r\nab").result_int(),
            400u);
  // HTTP/1.0 has no Host to require.
  EXPECT_EQ(exchange(connect(), "POST /wsman HTTP/1.0\r\nContent-Length: 2\r\n\r\nab").result_int(), 401u);
  EXPECT_EQ(server().stats().badRequests, 2u);
  EXPECT_TRUE(requests_.empty());
}

TEST_F(WsmanHttpTest, TransferCodingsOtherThanChunkedAreRefused) {
  std::string gzipThenChunked = "POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n";
  auto res = exchange(connect(), gzipThenChunked);
  EXPECT_EQ(res.result_int(), 501u);
  EXPECT_EQ(res[bhttp::field::connection], "close");
  EXPECT_EQ(exchange(connect(), "POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")
                .result_int(),
            400u);
  // Plain chunked is read as ever.
  EXPECT_EQ(exchange(connect(), "POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n")
                .result_int(),
            401u);
}

TEST_F(WsmanHttpTest, RequestOverTheSizeCapIs413) {
  options_.maxRequestBytes = 4096;
  auto& c = connect();
  auto res = exchange(c, "POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(5000, 'a'));
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_EQ(res[bhttp::field::connection], "close");
  // Chunked bodies are counted too.
  auto& c2 = connect();
  std::string chunkedReq = "POST /wsman HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunkedReq += "400\r\n" + std::string(1024, 'b') + "\r\n";
  EXPECT_EQ(exchange(c2, chunkedReq).result_int(), 413u);
  // So are headers.
  auto& c3 = connect();
  EXPECT_EQ(exchange(c3, "POST /wsman HTTP/1.1\r\nX-Big: " + std::string(8000, 'h') + "\r\n\r\n").result_int(), 431u);
  EXPECT_EQ(server().stats().tooLarge, 3u);
}

TEST_F(WsmanHttpTest, ConnectionCapAnswers503AndTheDaemonGoesOn) {
  options_.maxConnections = 2;
  auto& a = connect();
  auto& b = connect();
  (void)a;
  (void)b;
  auto& third = connect();
  auto busy = exchange(third, post(kEnvelope));
  EXPECT_EQ(busy.result_int(), 503u);
  EXPECT_EQ(busy[bhttp::field::connection], "close");
  EXPECT_EQ(server().stats().rejectedBusy, 1u);
  // Once a served connection ends, a new one is served again.
  a.close();
  ASSERT_TRUE(runUntil([&] { return server().activeConnections() == 1; }));
  auto& fourth = connect();
  EXPECT_EQ(exchange(fourth, post(kEnvelope)).result_int(), 401u);
}

TEST_F(WsmanHttpTest, EachListenerHasItsOwnCap) {
  options_.maxConnections = 2;
  connectFrom("192.0.2.1");
  connectFrom("192.0.2.2");
  // Plain HTTP is full, and both hold one each: nobody to make room for a third address.
  EXPECT_EQ(exchange(connectFrom("192.0.2.3"), post(kEnvelope)).result_int(), 503u);
  // LMS channels count against their own listener.
  EXPECT_EQ(exchange(connect(true), post(kEnvelope)).result_int(), 401u);
  EXPECT_EQ(server().stats().rejectedBusy, 1u);
}

TEST_F(WsmanHttpTest, OneAddressCannotTakeMoreThanItsShare) {
  options_.maxConnections = 8;
  options_.maxConnectionsPerAddress = 3;
  for (int i = 0; i < 3; ++i) connectFrom("192.0.2.66");
  auto busy = exchange(connectFrom("192.0.2.66"), post(kEnvelope));
  EXPECT_EQ(busy.result_int(), 503u);
  EXPECT_EQ(busy[bhttp::field::connection], "close");
  EXPECT_EQ(server().stats().overAddressCap, 1u);
  // Another address is served as ever.
  EXPECT_EQ(exchange(connectFrom("192.0.2.7"), post(kEnvelope)).result_int(), 401u);
}

TEST_F(WsmanHttpTest, AtTheCapAWaitingConnectionOfTheBusiestAddressMakesRoom) {
  options_.maxConnections = 4;
  options_.maxConnectionsPerAddress = 0;
  // A flood holds the listener: three idle connections, then one that sent half a header (a slow loris).
  auto& oldest = connectFrom("192.0.2.66");
  runUntil([] { return false; }, 5ms);
  connectFrom("192.0.2.66");
  connectFrom("192.0.2.66");
  auto& slow = connectFrom("192.0.2.66");
  asio::write(slow, asio::buffer(std::string("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-")));
  settle();
  ASSERT_EQ(server().activeConnections(), 4u);

  // A client of another address is served: the flood's oldest waiting connection is closed for it.
  auto& client = connectFrom("192.0.2.7");
  EXPECT_TRUE(closedByServer(oldest));
  EXPECT_EQ(server().stats().evicted, 1u);
  // Identify needs no credentials and keeps the connection open (a 401 would close it).
  EXPECT_EQ(exchange(client, post("<wsmid:Identify/>")).result_int(), 200u);
  EXPECT_EQ(server().stats().rejectedBusy, 0u);

  // The flood cannot push it out again, nor grow: its address holds more than the newcomer's.
  auto& more = connectFrom("192.0.2.66");
  EXPECT_EQ(exchange(more, post(kEnvelope)).result_int(), 503u);
  EXPECT_EQ(server().stats().evicted, 1u);
}

TEST_F(WsmanHttpTest, AConnectionInTheMiddleOfARequestIsNeverEvicted) {
  options_.maxConnections = 2;
  options_.maxConnectionsPerAddress = 0;
  // Both connections of the busy address are past their header (one reading its body, one being answered).
  auto& reading = connectFrom("192.0.2.66");
  asio::write(reading, asio::buffer(std::string("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")));
  auto& other = connectFrom("192.0.2.66");
  asio::write(other, asio::buffer(std::string("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ncd")));
  settle();
  auto busy = exchange(connectFrom("192.0.2.7"), post(kEnvelope));
  EXPECT_EQ(busy.result_int(), 503u);
  EXPECT_EQ(server().stats().evicted, 0u);
}

TEST_F(WsmanHttpTest, Http10GetsContentLengthAndClose) {
  const auto nonce = freshNonce();
  auto& c = connect();
  std::string req = post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1));
  req.replace(req.find("HTTP/1.1"), 8, "HTTP/1.0");
  auto res = exchange(c, req);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::transfer_encoding], "");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
  EXPECT_TRUE(closedByServer(c));
}

TEST_F(WsmanHttpTest, ExpectContinueGetsAnInterim100) {
  const auto nonce = freshNonce();
  auto& c = connect();
  std::string req = post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1), "Expect: 100-continue\r\n");
  const auto split = req.find("\r\n\r\n") + 4;
  asio::write(c, asio::buffer(req.substr(0, split)));
  auto interim = readResponse(c);
  EXPECT_EQ(interim.result_int(), 100u);
  EXPECT_EQ(exchange(c, req.substr(split)).result_int(), 200u);
}

TEST_F(WsmanHttpTest, DroppedReplyIsAnswered500) {
  dropReplies_ = true;
  const auto nonce = freshNonce();
  auto& c = connect();
  auto res = exchange(c, post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1)));
  EXPECT_EQ(res.result_int(), 500u);
  EXPECT_EQ(requests_.size(), 1u);
}

TEST_F(WsmanHttpTest, StopClosesOpenConnections) {
  auto& c = connect();
  ASSERT_TRUE(runUntil([&] { return server().activeConnections() == 1; }));
  server().stop();
  EXPECT_TRUE(closedByServer(c));
  ASSERT_TRUE(runUntil([&] { return server().activeConnections() == 0; }));
}

// ---------------------------------------------------------------------------------------------
// Real listeners over loopback
// ---------------------------------------------------------------------------------------------

// Runs `client` on its own thread (blocking I/O) while this thread runs the server's loop.
class LoopbackTest : public WsmanHttpTest {
 protected:
  void runClient(const std::function<void()>& client, std::chrono::milliseconds limit = 10'000ms) {
    std::atomic<bool> done{false};
    std::thread t([&] {
      client();
      done = true;
    });
    EXPECT_TRUE(runUntil([&] { return done.load(); }, limit));
    t.join();
  }

  static std::string readAll(tcp::socket& s) {
    std::string out;
    beast::error_code ec;
    char buf[4096];
    for (;;) {
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
    }
    return out;
  }
};

TEST_F(LoopbackTest, SlowLorisGets408AndDoesNotBlockOthers) {
  options_.httpPort = 0;
  options_.headerTimeout = 400ms;
  ASSERT_EQ(errorOf(server().start()), "");
  const auto port = server().ports().http;
  ASSERT_NE(port, 0);

  std::string slowAnswer;
  std::chrono::milliseconds slowTook{};
  std::chrono::milliseconds fastTook{};
  int fastStatus = 0;
  runClient([&] {
    asio::io_context cio;
    tcp::socket slow(cio);
    slow.connect({asio::ip::make_address("127.0.0.1"), port});
    const auto start = std::chrono::steady_clock::now();
    asio::write(slow, asio::buffer(std::string("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-")));  // half a header

    tcp::socket fast(cio);
    fast.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(fast, asio::buffer(post(kEnvelope, {}, "Connection: close\r\n")));
    std::string answer = readAll(fast);
    fastTook = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    fastStatus = answer.rfind("HTTP/1.1 401", 0) == 0 ? 401 : -1;

    slowAnswer = readAll(slow);
    slowTook = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  });
  EXPECT_EQ(fastStatus, 401);
  EXPECT_LT(fastTook.count(), 300) << "the fast client waited for the slow one";
  EXPECT_EQ(slowAnswer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << slowAnswer;
  EXPECT_NE(slowAnswer.find("Connection: close"), std::string::npos);
  EXPECT_GE(slowTook.count(), 350);
  EXPECT_EQ(server().stats().timeouts, 1u);
}

TEST_F(LoopbackTest, IdleKeepAliveConnectionIsClosedQuietly) {
  options_.httpPort = 0;
  options_.headerTimeout = 200ms;
  ASSERT_EQ(errorOf(server().start()), "");
  const auto port = server().ports().http;
  std::string got = "unset";
  runClient([&] {
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    got = readAll(s);  // returns at the server's close
  });
  EXPECT_EQ(got, "");
}

TEST_F(LoopbackTest, BodyTimeoutIs408) {
  options_.httpPort = 0;
  options_.bodyTimeout = 300ms;
  ASSERT_EQ(errorOf(server().start()), "");
  const auto port = server().ports().http;
  std::string got;
  runClient([&] {
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(std::string("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")));
    got = readAll(s);
  });
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
}

// What AMT answers is not known (no capture); like common TLS web servers, a plain HTTP request on the TLS port
// is told so in plain HTTP instead of the connection being dropped unanswered.
TEST_F(LoopbackTest, PlainHttpOnTheTlsPortIsAnsweredInPlainHttp) {
  options_.httpsPort = 0;
  ASSERT_EQ(errorOf(server().start()), "");
  const auto port = server().ports().https;
  std::string got;
  runClient([&] {
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(post(kEnvelope)));
    got = readAll(s);
  });
  EXPECT_EQ(got.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
  EXPECT_NE(got.find("https://"), std::string::npos);
  EXPECT_TRUE(requests_.empty());
  // Bytes that are neither TLS nor HTTP still end the connection without an answer.
  runClient([&] {
    asio::io_context cio;
    tcp::socket s(cio);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    asio::write(s, asio::buffer(std::string("\x01\x02\x03 not tls")));
    got = readAll(s);
  });
  EXPECT_EQ(got, "");
}

TEST_F(LoopbackTest, TlsHandshakeAndDigestWithTheGeneratedCertificateWhichIsKept) {
  options_.httpsPort = 0;
  ASSERT_EQ(errorOf(server().start()), "");
  ASSERT_NE(server().ports().https, 0);
  const auto keyPath = dir_.path() / wsman::http::kTlsKeyFile;
  const auto certPath = dir_.path() / wsman::http::kTlsCertFile;
  struct stat st {};
  ASSERT_EQ(::stat(keyPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string certPem;
  ASSERT_FALSE(core::readFile(certPath, certPem));

  auto request = [&](const char* cipherList, int maxVersion, const std::string& raw, std::string& peerCertDigest) {
    std::string answer;
    const auto port = server().ports().https;
    runClient([&] {
      asio::io_context cio;
      asio::ssl::context ctx(asio::ssl::context::tls_client);
      ctx.set_verify_mode(asio::ssl::verify_none);  // self-signed; the digest below checks the identity
      if (cipherList) SSL_CTX_set_cipher_list(ctx.native_handle(), cipherList);
      if (maxVersion) SSL_CTX_set_max_proto_version(ctx.native_handle(), maxVersion);
      asio::ssl::stream<tcp::socket> s(cio, ctx);
      s.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
      beast::error_code ec;
      s.handshake(asio::ssl::stream_base::client, ec);
      if (ec) {
        answer = "handshake: " + ec.message();
        return;
      }
      X509* peer = SSL_get1_peer_certificate(s.native_handle());
      unsigned char d[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      X509_digest(peer, EVP_sha256(), d, &n);
      X509_free(peer);
      peerCertDigest = text::toHex(std::span(d, n));
      asio::write(s, asio::buffer(raw));
      beast::flat_buffer buf;
      Response res;
      bhttp::read(s, buf, res, ec);
      answer = ec ? "read: " + ec.message() : std::to_string(res.result_int()) + " " + std::string(res[bhttp::field::www_authenticate]) + "|" + res.body();
    });
    return answer;
  };

  std::string digest;
  auto first = request(nullptr, 0, post(kEnvelope), digest);
  ASSERT_EQ(first.rfind("401 ", 0), 0u) << first;
  EXPECT_EQ(platform_->state().amtCertHash.size(), 32u);
  EXPECT_EQ(digest, text::toHex(platform_->state().amtCertHash));
  const auto nonce = nonceOf(first);
  // MeshCentral's suites: static RSA key exchange with AES over TLS 1.2 (spec §2.1).
  auto second = request("AES128-GCM-SHA256:AES128-SHA", TLS1_2_VERSION,
                        post(kEnvelope, authorization("admin", kPassword, realm(), nonce, 1)), digest);
  EXPECT_EQ(second, "200 |<echo user=\"admin\">" + kEnvelope + "</echo>");
  ASSERT_FALSE(requests_.empty());
  EXPECT_TRUE(requests_.back().tls);

  // A restart reuses the pair.
  server_->stop();
  settle();
  server_.reset();
  ASSERT_EQ(errorOf(server().start()), "");
  std::string certAgain;
  ASSERT_FALSE(core::readFile(certPath, certAgain));
  EXPECT_EQ(certAgain, certPem);
  std::string digestAgain;
  auto third = request(nullptr, 0, post(kEnvelope), digestAgain);
  EXPECT_EQ(third.rfind("401 ", 0), 0u) << third;
  EXPECT_EQ(digestAgain, digest);
}

// With runBlocking the key is made off the loop: start() returns with the TLS port open at once, the loop keeps
// serving plain HTTP meanwhile, and TLS is served once whenTlsSettled() fired; a broken pair is reported there.
TEST_F(LoopbackTest, TheKeyIsMadeOffTheLoopAndTlsServesOnceReady) {
  std::vector<std::thread> workers;
  options_.httpsPort = 0;
  options_.runBlocking = [&](std::function<void()> job) { workers.emplace_back(std::move(job)); };
  ASSERT_EQ(errorOf(server().start()), "");
  EXPECT_NE(server().ports().https, 0);
  ASSERT_EQ(workers.size(), 1u) << "the key is made on the worker, not in start()";
  std::optional<std::string> outcome;
  server().whenTlsSettled([&](const Result<>& result) { outcome = errorOf(result); });
  ASSERT_TRUE(runUntil([&] { return outcome.has_value(); }, 30'000ms));
  EXPECT_EQ(*outcome, "");
  EXPECT_EQ(platform_->state().amtCertHash.size(), 32u);
  const auto port = server().ports().https;
  std::string answer;
  runClient([&] {
    asio::io_context cio;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket> s(cio, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    beast::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    answer = ec ? "handshake: " + ec.message() : "ok";
  });
  EXPECT_EQ(answer, "ok");
  for (auto& w : workers) w.join();
  workers.clear();

  // A pair that cannot be used: start() succeeds (the TLS port is open), whenTlsSettled() says why.
  server_->stop();
  settle();
  server_.reset();
  ASSERT_FALSE(core::writeFileAtomic(dir_.path() / wsman::http::kTlsKeyFile, "not a key"));
  ASSERT_EQ(errorOf(server().start()), "");
  std::optional<std::string> failure;
  server().whenTlsSettled([&](const Result<>& result) { failure = errorOf(result); });
  ASSERT_TRUE(runUntil([&] { return failure.has_value(); }, 30'000ms));
  EXPECT_NE(failure->find("TLS certificate"), std::string::npos) << *failure;
  for (auto& w : workers) w.join();
}

// On first use: start() settles at once without a key; the first TLS handshake waits while the key is made off
// the loop, then succeeds; the pair is written and its hash stored; a restart loads it without making another.
TEST_F(LoopbackTest, OnFirstUseTheKeyIsMadeByTheFirstHandshake) {
  std::vector<std::thread> workers;
  options_.httpsPort = 0;
  options_.makeTlsIdentityOnFirstUse = true;
  options_.runBlocking = [&](std::function<void()> job) { workers.emplace_back(std::move(job)); };
  ASSERT_EQ(errorOf(server().start()), "");
  std::optional<std::string> settled;
  server().whenTlsSettled([&](const Result<>& result) { settled = errorOf(result); });
  ASSERT_TRUE(runUntil([&] { return settled.has_value(); }, 30'000ms));
  EXPECT_EQ(*settled, "");
  ASSERT_EQ(workers.size(), 1u) << "loading only";
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / wsman::http::kTlsKeyFile)) << "no key before first use";
  EXPECT_TRUE(platform_->state().amtCertHash.empty());

  const auto port = server().ports().https;
  std::string answer;
  std::thread client([&] {
    asio::io_context cio;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<tcp::socket> s(cio, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    beast::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    answer = ec ? "handshake: " + ec.message() : "ok";
  });
  ASSERT_TRUE(runUntil([&] { return workers.size() == 2; }, 30'000ms)) << "the handshake asks for the key";
  ASSERT_TRUE(runUntil([&] { return !answer.empty(); }, 30'000ms));
  client.join();
  EXPECT_EQ(answer, "ok");
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / wsman::http::kTlsKeyFile));
  EXPECT_EQ(platform_->state().amtCertHash.size(), 32u);
  const auto hash = platform_->state().amtCertHash;

  // withTlsIdentity() now answers at once, and a restart loads the pair without making another.
  std::optional<std::string> inPlace;
  server().withTlsIdentity([&](const Result<>& result) { inPlace = errorOf(result); });
  ASSERT_TRUE(runUntil([&] { return inPlace.has_value(); }, 30'000ms));
  EXPECT_EQ(*inPlace, "");
  server_->stop();
  settle();
  server_.reset();
  for (auto& w : workers) w.join();
  workers.clear();
  ASSERT_EQ(errorOf(server().start()), "");
  std::optional<std::string> reloaded;
  server().withTlsIdentity([&](const Result<>& result) { reloaded = errorOf(result); });
  ASSERT_TRUE(runUntil([&] { return reloaded.has_value(); }, 30'000ms));
  for (auto& w : workers) w.join();
  EXPECT_EQ(*reloaded, "");
  EXPECT_EQ(workers.size(), 1u) << "loaded, not made again";
  EXPECT_EQ(platform_->state().amtCertHash, hash);
}

TEST_F(LoopbackTest, BrokenTlsFilesAreAnErrorNotOverwritten) {
  options_.httpsPort = 0;
  ASSERT_FALSE(core::writeFileAtomic(dir_.path() / wsman::http::kTlsKeyFile, "not a key"));
  ASSERT_FALSE(core::writeFileAtomic(dir_.path() / wsman::http::kTlsCertFile, "not a cert"));
  const auto err = errorOf(server().start());
  EXPECT_NE(err.find("TLS certificate"), std::string::npos) << err;
  std::string key;
  ASSERT_FALSE(core::readFile(dir_.path() / wsman::http::kTlsKeyFile, key));
  EXPECT_EQ(key, "not a key");
}

TEST_F(LoopbackTest, UserSuppliedCertificateIsUsed) {
  wsman::http::TlsIdentitySource src;
  src.commonName = "user.example.com";
  auto identity = wsman::http::createSelfSignedIdentity(src);
  ASSERT_TRUE(identity) << identity.error().message;
  ASSERT_FALSE(core::writeFileAtomic(dir_.path() / "my-cert.pem", identity->certificatePem));
  ASSERT_FALSE(core::writeFileAtomic(dir_.path() / "my-key.pem", identity->privateKeyPem));
  options_.httpsPort = 0;
  options_.tlsCertFile = dir_.path() / "my-cert.pem";
  options_.tlsKeyFile = dir_.path() / "my-key.pem";
  ASSERT_EQ(errorOf(server().start()), "");
  EXPECT_EQ(platform_->state().amtCertHash, identity->sha256);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / wsman::http::kTlsKeyFile));
}

TEST_F(LoopbackTest, BusyPortIsAClearError) {
  options_.httpPort = 0;
  ASSERT_EQ(errorOf(server().start()), "");
  WsmanHttpOptions second = options_;
  second.httpPort = server().ports().http;
  WsmanHttpServer other(io_, *platform_, second);
  const auto err = errorOf(other.start());
  EXPECT_NE(err.find("cannot listen"), std::string::npos) << err;
}

// The web-service hook (web_service.h): public paths reach the service without credentials, every other path only
// after the same Digest login as /wsman; the service's status and headers are sent with a Content-Length; HEAD gets
// no body; a throwing service is a 500; /wsman and WebSocket paths keep their own routes.
TEST_F(WsmanHttpTest, WebServiceServesOtherPathsPublicOnesWithoutDigest) {
  std::vector<WebRequest> seen;
  WebService web;
  web.isPublic = [](std::string_view method, std::string_view path) {
    return (method == "GET" || method == "HEAD") && path == "/logon.htm";
  };
  web.handle = [&seen](const WebRequest& request) {
    seen.push_back(request);
    if (request.path == "/throw") throw std::runtime_error("boom");
    WebResponse r;
    r.status = request.path == "/userform" ? 303 : 200;
    r.header("Content-Type", "text/html").header("Location", "/remote.htm");
    r.body = "page " + request.path + " for '" + request.user + "' " + request.body;
    return r;
  };
  server().setWebService(web);
  auto& c = connect();
  auto logon = exchange(c, "GET /logon.htm?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(logon.result_int(), 200u);
  EXPECT_EQ(logon.body(), "page /logon.htm for '' ");
  EXPECT_EQ(logon[bhttp::field::content_length], std::to_string(logon.body().size()));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].query, "x=1");
  EXPECT_EQ(seen[0].target, "/logon.htm?x=1");

  const std::string form = "t=1&a=b";
  auto refused = exchange(c, "POST /userform HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n" + form);
  EXPECT_EQ(refused.result_int(), 401u);
  EXPECT_EQ(seen.size(), 1u) << "nothing behind Digest reached the service without it";
  const auto nonce = nonceOf(std::string(refused[bhttp::field::www_authenticate]));
  auto& c2 = connect();
  auto ok = exchange(c2, "POST /userform HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         "Authorization: " + authorization("admin", kPassword, realm(), nonce, 1, "/userform") +
                             "\r\nContent-Length: 7\r\n\r\n" + form);
  EXPECT_EQ(ok.result_int(), 303u);
  EXPECT_EQ(ok[bhttp::field::location], "/remote.htm");
  EXPECT_EQ(ok.body(), "page /userform for 'admin' t=1&a=b");
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].contentType, "application/x-www-form-urlencoded");
  EXPECT_EQ(seen[1].method, "POST");

  auto& c3 = connect();
  asio::write(c3, asio::buffer(std::string("HEAD /logon.htm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::string head;
  EXPECT_TRUE(runUntil([&] {
    head += c3.str();
    c3.clear();
    return head.find("\r\n\r\n") != std::string::npos;
  }));
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_TRUE(closedByServer(c3));
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "HEAD: no body on the wire: " << head;

  web.isPublic = [](std::string_view, std::string_view) { return true; };
  server().setWebService(web);
  auto& c4 = connect();
  EXPECT_EQ(exchange(c4, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 500u);
  EXPECT_EQ(exchange(c4, "GET /wsman HTTP/1.1\r\nHost: x\r\n\r\n").result_int(), 405u) << "/wsman keeps its route";
  EXPECT_EQ(server().stats().webRequests, 4u);
  EXPECT_TRUE(requests_.empty());
}


}  // namespace
}  // namespace mesim
