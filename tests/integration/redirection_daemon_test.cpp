// Serial-over-LAN in the real daemon (issue 13): a client of our own written against the protocol
// (features.md §1.1-1.2) logs in with Digest and carries bytes both ways through the host's PTY; over TLS (16993's
// certificate) with a cleartext login it reaches the simulated OS's console; Debian's amtterm 1.4 types on the
// console and reads its answers; a factory-state device serves no one.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <optional>
#include <thread>

#include <boost/json.hpp>

#include "firmware/platform/credentials.h"
#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"
#include "wsman/http/digest_auth.h"
#include "wsman/redirection/redirection_codec.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
using namespace wsman::redirection;
using Bytes = std::vector<std::uint8_t>;
constexpr char kPassword[] = "P@ssw0rd";

boost::json::value statusOf(DaemonProcess& daemon) {
  const std::string raw = daemon.get("/status");
  boost::system::error_code ec;
  auto value = raw.size() > 4 ? boost::json::parse(raw.substr(4), ec) : boost::json::value();
  return ec ? boost::json::value() : value;
}

boost::json::value redirectionStatus(DaemonProcess& daemon) {
  auto status = statusOf(daemon);
  if (!status.is_object()) return {};
  const auto* r = status.as_object().if_contains("redirection");
  return r ? *r : boost::json::value();
}

// A redirection console over TCP or TLS: messages out, messages in (reassembled from whatever reads bring).
class SolClient {
 public:
  ~SolClient() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(std::uint16_t port, bool tls = false) {
    fd_ = connectLoopback(port);
    if (fd_ < 0 || !tls) return fd_ >= 0;
    ctx_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }
  // DER of the server's certificate (TLS only).
  Bytes peerCertificate() const {
    Bytes der;
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return der;
    unsigned char* out = nullptr;
    const int n = i2d_X509(cert, &out);
    if (n > 0) der.assign(out, out + n);
    OPENSSL_free(out);
    X509_free(cert);
    return der;
  }
  void send(const Message& message) { sendRaw(encode(message)); }
  void sendRaw(const Bytes& bytes) {
    if (ssl_)
      SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
    else
      ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  // The next message, or nothing when the connection closed or `timeout` passed.
  std::optional<Message> next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto decoded = decodeMessage(buffer_);
      if (!decoded) return std::nullopt;
      if (*decoded) {
        Message m = (*decoded)->message;
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
        return m;
      }
      if (closed_ || std::chrono::steady_clock::now() > deadline) return std::nullopt;
      readSome(deadline);
    }
  }
  template <class T>
  std::optional<T> nextOf(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!m) return std::nullopt;
      if (auto* t = std::get_if<T>(&*m)) return *t;
      // Heartbeats and the like are not what the caller waits for.
    }
    return std::nullopt;
  }
  // Host output (0x2A) until it holds `text`.
  std::string hostOutputUntil(const std::string& text, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (hostOutput_.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!m) break;
      if (auto* data = std::get_if<SolData>(&*m)) hostOutput_ += data->bytes;
    }
    return hostOutput_;
  }
  bool closedByPeer(std::chrono::milliseconds timeout = 3s) {
    next(timeout);
    return closed_;
  }

 private:
  void readSome(std::chrono::steady_clock::time_point deadline) {
    if (!ssl_ || SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(1, left.count()))) <= 0) return;
    }
    std::uint8_t buf[4096];
    const int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::read(fd_, buf, sizeof buf));
    if (n <= 0) {
      closed_ = true;
      return;
    }
    buffer_.insert(buffer_.end(), buf, buf + n);
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  Bytes buffer_;
  std::string hostOutput_;
  bool closed_ = false;
};

void cleartextSol(SolClient& console, const std::string& password = kPassword) {
  console.send(StartSession{0, kTagSol});
  auto started = console.nextOf<StartSessionReply>();
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, SessionStatus::Ok);
  console.send(Authenticate{AuthType::Cleartext, encodeCleartext({"admin", password})});
  auto auth = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(auth);
  ASSERT_EQ(auth->status, AuthStatus::Ok);
  console.send(StartSol{});
  auto sol = console.nextOf<StartSolReply>();
  ASSERT_TRUE(sol);
  ASSERT_EQ(sol->status, 0);
}

// Reads the PTY's slave until it holds `text`.
std::string readSlaveUntil(int slave, const std::string& text, std::chrono::milliseconds timeout = 5s) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{slave, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    char buf[256];
    const auto n = ::read(slave, buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

TEST(RedirectionDaemon, DigestSolCarriesBytesBothWaysThroughThePty) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.redirectionPort(), 0) << daemon.log();
  auto status = redirectionStatus(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  EXPECT_EQ(status.at("sol_host").as_string(), "pty") << "the default without a simulated OS";
  const std::string ptyPath(status.at("pty").as_string());
  EXPECT_NE(daemon.log().find("SOL pty " + ptyPath), std::string::npos) << "the ready line names it";
  const int slave = ::open(ptyPath.c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0) << ptyPath;

  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  console.send(StartSession{0, kTagSol});
  auto started = console.nextOf<StartSessionReply>();
  ASSERT_TRUE(started);
  EXPECT_EQ(started->status, SessionStatus::Ok);
  EXPECT_EQ(started->iana, kIanaIntel);
  console.send(Authenticate{AuthType::Query, {}});
  auto query = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(query);
  EXPECT_EQ(query->data, (Bytes{1, 4}));

  console.send(Authenticate{AuthType::Digest, encodeDigest({"admin", "", "", kDigestUri, "", "", "", ""})});
  auto challengeReply = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(challengeReply);
  ASSERT_EQ(challengeReply->status, AuthStatus::Failed);
  auto challenge = decodeDigestChallenge(challengeReply->data);
  ASSERT_TRUE(challenge) << challenge.error().message;
  DigestFields answer{"admin", challenge->realm, challenge->nonce, kDigestUri, "4f1c2e9ab0", "00000001", "", "auth"};
  answer.response = wsman::http::digestResponse(platform::digestHa1("admin", challenge->realm, kPassword),
                                                answer.nonce, answer.nc, answer.cnonce, answer.qop, "POST", kDigestUri);
  console.send(Authenticate{AuthType::Digest, encodeDigest(answer)});
  auto auth = console.nextOf<AuthenticateReply>();
  ASSERT_TRUE(auth);
  ASSERT_EQ(auth->status, AuthStatus::Ok);
  SolSettings settings;
  settings.maxTxBuffer = 10000;
  settings.heartbeat = 0;  // MeshCentral's
  console.send(StartSol{settings});
  auto sol = console.nextOf<StartSolReply>();
  ASSERT_TRUE(sol);
  EXPECT_EQ(sol->status, 0);
  console.send(SolUndocumented{1});  // MeshCentral's 0x27: ignored

  console.send(SolData{true, 2, "hello host\r"});
  EXPECT_EQ(readSlaveUntil(slave, "hello host\r"), "hello host\r");
  ASSERT_EQ(::write(slave, "hello console\r\n", 15), 15);
  EXPECT_NE(console.hostOutputUntil("hello console\r\n").find("hello console\r\n"), std::string::npos);

  // A second console is told busy.
  SolClient second;
  ASSERT_TRUE(second.connect(daemon.redirectionPort()));
  second.send(StartSession{0, kTagSol});
  auto busy = second.nextOf<StartSessionReply>();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, SessionStatus::Busy);
  second.send(StartSession{0, kTagIder});
  auto ider = second.nextOf<StartSessionReply>();
  ASSERT_TRUE(ider);
  EXPECT_EQ(ider->status, SessionStatus::Ok) << "IDE-R has a slot of its own";

  status = redirectionStatus(daemon);
  ASSERT_TRUE(status.at("sol_session").is_object()) << status;
  EXPECT_EQ(status.at("sol_session").at("user").as_string(), "admin");

  console.send(EndSol{3});
  EXPECT_TRUE(console.nextOf<EndSolReply>());
  console.send(EndSession{});
  EXPECT_TRUE(console.closedByPeer());
  status = redirectionStatus(daemon);
  EXPECT_TRUE(status.at("sol_session").is_null()) << status;
  EXPECT_EQ(status.at("sol_sessions").to_number<int>(), 1);
  EXPECT_EQ(status.at("busy").to_number<int>(), 1);
  EXPECT_EQ(status.at("bytes_to_host").to_number<int>(), 11);
  ::close(slave);

  // A message nobody knows ends the connection; the daemon goes on.
  SolClient garbage;
  ASSERT_TRUE(garbage.connect(daemon.redirectionPort()));
  garbage.sendRaw(Bytes{0xEE, 0, 0, 0});
  EXPECT_TRUE(garbage.closedByPeer());
  status = redirectionStatus(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.log();
  EXPECT_EQ(status.at("protocol_errors").to_number<int>(), 1);
}

// AMT_RedirectionService.TerminateSession (SessionType 1) ends the live SOL session through WS-Man: the console's
// connection closes and the SOL slot is free; a second call finds nothing to end (3, as Intel LMS reads it).
TEST(RedirectionDaemon, TerminateSessionEndsTheLiveSolSession) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  cleartextSol(console);
  ASSERT_TRUE(redirectionStatus(daemon).at("sol_session").is_object());
  WsmanDigestClient wsman(daemon.httpPort(), "admin", kPassword);
  const std::string uri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RedirectionService";
  const auto terminate = [&](int type) {
    auto answer = wsman.post(test::wsmanEnvelope(uri + "/TerminateSession", uri,
                                                 "<h:TerminateSession_INPUT xmlns:h=\"" + uri + "\"><h:SessionType>" +
                                                     std::to_string(type) + "</h:SessionType></h:TerminateSession_INPUT>"));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    const auto at = answer.body.find("ReturnValue>");
    return at == std::string::npos ? std::string("none") : answer.body.substr(at + 12, 1);
  };
  EXPECT_EQ(terminate(0), "3") << "no IDE-R session: the SOL one stays";
  EXPECT_FALSE(console.closedByPeer(200ms));
  EXPECT_EQ(terminate(1), "0");
  EXPECT_TRUE(console.closedByPeer());
  EXPECT_TRUE(redirectionStatus(daemon).at("sol_session").is_null());
  EXPECT_EQ(terminate(1), "3") << "nothing left to end";
}

// Flow control toward the host: 8 MiB typed on the console reach a PTY that is read slowly, every byte in order;
// the console is held back (TCP) while the host's queue is full instead of losing bytes.
TEST(RedirectionDaemon, ASlowPtyGetsEveryByteTheConsoleSends) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off"})) << daemon.log();
  auto status = redirectionStatus(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  const int slave = ::open(std::string(status.at("pty").as_string()).c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  cleartextSol(console);

  constexpr std::size_t kTotal = 8 * 1024 * 1024;
  std::string expected(kTotal, '\0');
  for (std::size_t i = 0; i < kTotal; ++i) expected[i] = static_cast<char>((i * 131 + i / 4093) & 0xFF);
  std::thread typist([&] {
    constexpr std::size_t kChunk = 4000;
    std::uint32_t sequence = 10;
    for (std::size_t at = 0; at < kTotal; at += kChunk)
      console.send(SolData{true, sequence++, expected.substr(at, kChunk)});  // blocks while held back
  });
  std::string atHost;
  atHost.reserve(kTotal);
  const auto deadline = std::chrono::steady_clock::now() + 60s;  // ~2 s when it works
  std::vector<char> buf(8192);
  while (atHost.size() < kTotal && std::chrono::steady_clock::now() < deadline) {
    pollfd p{slave, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    const auto n = ::read(slave, buf.data(), buf.size());
    if (n > 0) atHost.append(buf.data(), static_cast<std::size_t>(n));
    std::this_thread::sleep_for(200us);  // a slow host: the console outruns it
  }
  typist.join();
  ASSERT_EQ(atHost.size(), kTotal) << "bytes lost or stuck";
  EXPECT_TRUE(atHost == expected) << "every byte, in order";
  status = redirectionStatus(daemon);
  EXPECT_EQ(status.at("bytes_to_host").to_number<std::uint64_t>(), kTotal);
  EXPECT_GT(status.at("host_pauses").to_number<std::uint64_t>(), 0u) << "the console was held back";
  EXPECT_GT(daemon.metricSample("mesim_sol_host_pauses_total", "device="), 0);
  EXPECT_EQ(daemon.metricSample("mesim_sol_bytes_total", R"(direction="to_host")"), double(kTotal));
  // The session is still healthy.
  console.send(EndSol{1});
  EXPECT_TRUE(console.nextOf<EndSolReply>());
  ::close(slave);
}

// A VM's serial port as the host (--sol-host unix:PATH, what QEMU -serial unix:PATH connects to): the test plays
// the VM on the socket; bytes go both ways; a bad --sol-host is refused at start with a clear message.
TEST(RedirectionDaemon, AUnixSocketPeerIsTheHostsSerialPort) {
  DaemonProcess daemon;
  const std::string socketPath = (daemon.stateDir() / "ttyS0.sock").string();
  ASSERT_TRUE(daemon.start({"--host-os", "none", "--fuse", "off", "--preload", "off", "--sol-host", "unix:" + socketPath}))
      << daemon.log();
  EXPECT_NE(daemon.log().find("SOL unix " + socketPath), std::string::npos) << "the ready line names it";
  auto status = redirectionStatus(daemon);
  ASSERT_TRUE(status.is_object()) << daemon.get("/status");
  EXPECT_EQ(status.at("sol_host").as_string(), "unix");
  EXPECT_FALSE(status.at("socket").at("connected").as_bool());

  const int vm = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(vm, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socketPath.c_str());
  ASSERT_EQ(::connect(vm, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);

  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  cleartextSol(console);
  console.send(SolData{true, 2, "ls\r"});
  EXPECT_EQ(readSlaveUntil(vm, "ls\r"), "ls\r");
  ASSERT_EQ(::write(vm, "bin etc\r\n", 9), 9);
  EXPECT_NE(console.hostOutputUntil("bin etc\r\n").find("bin etc\r\n"), std::string::npos);
  status = redirectionStatus(daemon);
  EXPECT_TRUE(status.at("socket").at("connected").as_bool()) << status;
  EXPECT_EQ(status.at("socket").at("connections").to_number<int>(), 1);
  ::close(vm);

  DaemonProcess bad;
  EXPECT_FALSE(bad.start({"--host-os", "none", "--fuse", "off", "--preload", "off", "--sol-host", "unix:"}));
  EXPECT_NE(bad.log().find("names no socket path"), std::string::npos) << bad.log();
}

// The console of a simulated OS that booted (manual clock), over 16995 with 16993's certificate.
TEST(RedirectionDaemon, TlsSolReachesTheSimulatedConsoleWithTheWsmanCertificate) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_NE(daemon.redirectionTlsPort(), 0) << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");  // the 5 s boot
  EXPECT_EQ(redirectionStatus(daemon).at("sol_host").as_string(), "console");

  SolClient wsmanTls;
  ASSERT_TRUE(wsmanTls.connect(daemon.httpsPort(), true));
  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionTlsPort(), true));
  EXPECT_FALSE(console.peerCertificate().empty());
  EXPECT_EQ(console.peerCertificate(), wsmanTls.peerCertificate()) << "16995 serves 16993's certificate";

  cleartextSol(console);
  console.send(SolData{true, 1, "\r"});
  EXPECT_NE(console.hostOutputUntil("login: ").find("login: "), std::string::npos);
  console.send(SolData{true, 2, "qa\r"});
  EXPECT_NE(console.hostOutputUntil("qa@").find("qa@"), std::string::npos);
  console.send(SolData{true, 3, "uname -a\r"});
  EXPECT_NE(console.hostOutputUntil("GNU/Linux").find("6.1.0-mesim"), std::string::npos);
}

TEST(RedirectionDaemon, AFactoryStateDeviceServesNoOne) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--provisioning", "pre", "--host-os", "none", "--fuse", "off", "--preload", "off"}))
      << daemon.log();
  SolClient console;
  ASSERT_TRUE(console.connect(daemon.redirectionPort()));
  console.send(StartSession{0, kTagSol});
  EXPECT_TRUE(console.closedByPeer()) << "closed at accept, as 16992";
  EXPECT_EQ(redirectionStatus(daemon).at("not_served").to_number<int>(), 1);
}

// Debian's amtterm 1.4 (cleartext login), its stdin and stdout on pipes: what it types reaches the console, the
// console's echo and answers come back.
class Amtterm {
 public:
  bool start(std::uint16_t port, const std::string& password) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      ::close(in[1]);
      ::close(out[0]);
      const std::string p = std::to_string(port);
      ::execlp("amtterm", "amtterm", "-u", "admin", "-p", password.c_str(), "127.0.0.1", p.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    return pid_ > 0;
  }
  ~Amtterm() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  void type(const std::string& text) { ASSERT_EQ(::write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size())); }
  std::string outputUntil(const std::string& text, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      char buf[512];
      const auto n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return output_;
  }
  // Closes its stdin (amtterm ends the session at EOF) and waits for it.
  int finish() {
    ::close(stdin_);
    stdin_ = -1;
    int status = -1;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string output_;
};

bool haveAmtterm() { return std::system("command -v amtterm >/dev/null 2>&1") == 0; }

TEST(RedirectionDaemon, DebiansAmttermTalksToTheConsole) {
  if (!haveAmtterm()) GTEST_SKIP() << "amtterm is not installed (scripts/test.sh installs it)";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--clock", "manual", "--fuse", "off", "--preload", "off"})) << daemon.log();
  ASSERT_EQ(daemon.post("/clock/advance?seconds=6").substr(0, 3), "200");

  {
    Amtterm wrong;
    ASSERT_TRUE(wrong.start(daemon.redirectionPort(), "not-the-password"));
    EXPECT_NE(wrong.outputUntil("authentication failed").find("authentication failed"), std::string::npos);
  }

  Amtterm amtterm;
  ASSERT_TRUE(amtterm.start(daemon.redirectionPort(), kPassword));
  ASSERT_NE(amtterm.outputUntil("serial-over-lan redirection ok").find("redirection ok"), std::string::npos)
      << amtterm.outputUntil("", 0ms) << daemon.log();
  amtterm.type("\r");
  EXPECT_NE(amtterm.outputUntil("login: ").find("login: "), std::string::npos) << amtterm.outputUntil("", 0ms);
  amtterm.type("qa\r");
  EXPECT_NE(amtterm.outputUntil("qa@").find("qa@"), std::string::npos);
  amtterm.type("echo typed-through-amtterm\r");
  // The echoed command line ends in the same text as the answer: wait for both lines, not the first.
  const std::string expected = "echo typed-through-amtterm\r\ntyped-through-amtterm\r\n";
  const std::string out = amtterm.outputUntil(expected);
  EXPECT_NE(out.find(expected), std::string::npos)
      << "the echo, then the answer: " << out;
  auto status = redirectionStatus(daemon);
  EXPECT_TRUE(status.at("sol_session").is_object()) << status;
  EXPECT_EQ(amtterm.finish(), 0);
  for (int i = 0; i < 100 && !redirectionStatus(daemon).at("sol_session").is_null(); ++i) std::this_thread::sleep_for(10ms);
  status = redirectionStatus(daemon);
  EXPECT_TRUE(status.at("sol_session").is_null()) << status;
  EXPECT_EQ(status.at("auth_failures").to_number<int>(), 1);
}

}  // namespace
}  // namespace mesim::test
