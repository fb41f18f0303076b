// WS-Man load: a load generator doing Digest over keep-alive connections (N connections, each sending
// sequential requests; Digest computed per request with the server's nonce and a growing nc, as MeshCentral
// does, re-challenged on 401) against mesim's Get AMT_GeneralSettings, Enumerate+Pull CIM_SoftwareIdentity and
// Enumerate+Pulls of the largest family (CIM_ManagedElement: every instance) over HTTP and TLS, and the same generator
// against nginx answering a body of the same size, in the same run.
// Loopback only. Run by hand:
//   build/bin/bench_wsman [--seconds S] [--warmup S] [--connections N] [--threads T] [--million]
// --million sends 1,000,000 Get requests over HTTP and samples mesim's RSS every 100,000.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <pugixml.hpp>

#include "tests/support/daemon_process.h"
#include "tests/support/wsman_messages.h"
#include "wsman/http/tls_identity.h"

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

const std::string kUser = "admin";
const std::string kPassword = "P@ssw0rd";
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

// ------------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------------

// MD5 fetched once and one context per thread: EVP_md5() + EVP_Digest would look the algorithm up and
// allocate a context on every call, which would make the generator, not the server, the limit.
std::string md5Hex(std::string_view data) {
  static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!md5 || EVP_DigestInit_ex(ctx.get(), md5, nullptr) != 1 || EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    std::fprintf(stderr, "bench_wsman: MD5 is unavailable in OpenSSL\n");
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

// wsman-messages 5.x framing (spec/wsman.md §1.2), MessageID a growing integer.
std::string envelope(const std::string& action, const std::string& uri, std::uint64_t messageId, const std::string& body) {
  return mesim::test::wsmanEnvelope(action, uri, body, std::to_string(messageId));
}

std::string getRequest(std::uint64_t id) { return envelope(kTransfer + "Get", kAmt + "AMT_GeneralSettings", id, ""); }
// The small enumeration (CIM_SoftwareIdentity: a handful of instances, one Pull) and the largest family:
// CIM_ManagedElement, the root of the model, whose polymorphic Enumerate walks every class the device serves.
const std::string kSmallEnumerationUri = kCim + "CIM_SoftwareIdentity";
const std::string kLargestFamilyUri = kCim + "CIM_ManagedElement";
std::string enumerateRequest(std::uint64_t id, const std::string& uri) {
  return envelope(kEnum + "Enumerate", uri, id,
                  "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />");
}
// MaxCharacters as MeshCentral's stack sends it (65535 per Pull): a large family takes several Pulls.
std::string pullRequest(std::uint64_t id, const std::string& uri, std::string_view context) {
  return envelope(kEnum + "Pull", uri, id,
                  "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                      std::string(context) + "</EnumerationContext><MaxElements>999</MaxElements><MaxCharacters>65535</"
                                             "MaxCharacters></Pull>");
}

// The value of `name="…"` (or name=token) in a WWW-Authenticate header.
std::string authParam(std::string_view header, std::string_view name) {
  std::size_t at = 0;
  while ((at = header.find(name, at)) != std::string_view::npos) {
    const bool startsParam = at == 0 || header[at - 1] == ' ' || header[at - 1] == ',';
    at += name.size();
    if (!startsParam || at >= header.size() || header[at] != '=') continue;
    ++at;
    if (at < header.size() && header[at] == '"') {
      auto end = header.find('"', at + 1);
      return std::string(header.substr(at + 1, end == std::string_view::npos ? end : end - at - 1));
    }
    auto end = header.find(',', at);
    return std::string(header.substr(at, end == std::string_view::npos ? end : end - at));
  }
  return {};
}

std::string between(std::string_view text, std::string_view open, char close) {
  auto at = text.find(open);
  if (at == std::string_view::npos) return {};
  at += open.size();
  auto end = text.find(close, at);
  return end == std::string_view::npos ? std::string() : std::string(text.substr(at, end - at));
}

// utime + stime of a process, in seconds.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double selfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

bool canConnect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// ------------------------------------------------------------------------------------------------
// nginx as the reference: one process (master_process off, worker_processes 1), loopback, ephemeral
// ports, a self-signed RSA-2048 certificate like mesim's, `return 200` with a body of mesim's size.
// ------------------------------------------------------------------------------------------------

std::string findNginx() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

class Nginx {
 public:
  ~Nginx() { stop(); }

  // "" once nginx accepts connections on both ports, else why not.
  std::string start(const std::string& body) {
    binary_ = findNginx();
    if (binary_.empty() && ::geteuid() == 0) {
      std::fprintf(stderr, "bench_wsman: nginx is missing; installing the Debian package 'nginx'\n");
      if (std::system("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null 2>&1") != 0)
        std::fprintf(stderr, "bench_wsman: apt-get install nginx failed; trying after apt-get update\n"),
            (void)std::system("apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install "
                              "-y -qq nginx >/dev/null 2>&1");
      binary_ = findNginx();
    }
    if (binary_.empty()) return "nginx is not installed (as root: apt-get install -y nginx)";
    dir_ = mesim::test::makeTempDir("bench-nginx");
    if (body.size() > 3500) return "body too large for one nginx config token";

    mesim::wsman::http::TlsIdentitySource source;
    source.commonName = "localhost";
    source.dnsNames = {"localhost"};
    source.ipAddresses = {"127.0.0.1"};
    auto identity = mesim::wsman::http::createSelfSignedIdentity(source);
    if (!identity) return "certificate: " + identity.error().message;
    std::ofstream(dir_ / "cert.pem") << identity->certificatePem;
    std::ofstream(dir_ / "key.pem") << identity->privateKeyPem;

    // `return` text is a config string: keep its size, drop what nginx would interpret.
    std::string text = body;
    for (char& c : text)
      if (c == '$' || c == '\'' || c == '\\') c = '_';
    httpPort_ = mesim::test::freeLoopbackPort();
    httpsPort_ = mesim::test::freeLoopbackPort();
    const std::string d = dir_.string();
    std::ofstream conf(dir_ / "nginx.conf");
    conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << d << "/nginx.pid;\nerror_log " << d
         << "/error.log warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
         << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n  fastcgi_temp_path " << d
         << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n  scgi_temp_path " << d << "/scgi;\n"
         << "  keepalive_requests 100000000;\n  keepalive_timeout 300s;\n"
         << "  server {\n    listen 127.0.0.1:" << httpPort_ << ";\n    listen 127.0.0.1:" << httpsPort_ << " ssl;\n"
         << "    ssl_certificate " << d << "/cert.pem;\n    ssl_certificate_key " << d << "/key.pem;\n"
         << "    ssl_protocols TLSv1.2 TLSv1.3;\n"
         << "    location = /wsman {\n      default_type \"application/soap+xml; charset=UTF-8\";\n"
         << "      return 200 '" << text << "';\n    }\n  }\n}\n";
    conf.close();

    pid_ = ::fork();
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      const std::string conf = d + "/nginx.conf", err = d + "/error.log";
      ::execl(binary_.c_str(), binary_.c_str(), "-p", d.c_str(), "-c", conf.c_str(), "-e", err.c_str(), nullptr);
      ::_exit(127);
    }
    for (auto deadline = Clock::now() + std::chrono::seconds(10); Clock::now() < deadline;) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "nginx exited at start: " + errorLog();
      }
      if (canConnect(httpPort_) && canConnect(httpsPort_)) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "nginx did not listen in time: " + errorLog();
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      dir_.clear();
    }
  }

  std::string errorLog() const {
    std::ifstream in(dir_ / "error.log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::string version() const {
    std::string cmd = binary_ + " -v 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[256];
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      ::pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    auto slash = out.find('/');
    return slash == std::string::npos ? out : "nginx " + out.substr(slash + 1);
  }
  pid_t pid() const { return pid_; }
  std::uint16_t httpPort() const { return httpPort_; }
  std::uint16_t httpsPort() const { return httpsPort_; }

 private:
  std::string binary_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::uint16_t httpPort_ = 0, httpsPort_ = 0;
};

// ------------------------------------------------------------------------------------------------
// The load generator
// ------------------------------------------------------------------------------------------------

enum class Op { Get, EnumeratePull };
constexpr int kMaxPullsPerEnumeration = 1000;

struct Phase {
  std::string label;
  std::uint16_t port = 0;
  bool tls = false;
  Op op = Op::Get;
  int connections = 32;
  pid_t serverPid = -1;
  bool mesim = true;  // else nginx: a fixed nonce, the server never challenges
  double warmup = 1;
  double seconds = 5;
  std::uint64_t totalOps = 0;  // > 0: stop after this many operations instead of after `seconds`
  std::uint64_t sampleEvery = 0;
  bool captureBodies = false;
  std::string enumerateUri = kSmallEnumerationUri;  // Op::EnumeratePull: the class enumerated
};

struct ConnStats {
  std::vector<double> latenciesUs;  // per operation completed in the window
  std::uint64_t ops = 0;            // completed in the window
  std::uint64_t requests = 0;       // HTTP requests answered in the window
  std::uint64_t challenges = 0;     // 401s (the first is expected)
  std::uint64_t errors = 0;
  std::string error;
  std::string tlsInfo;
  std::vector<std::string> bodies;  // captureBodies: each response body
};

struct RssSample {
  std::uint64_t ops;
  long rssKb;
  double elapsed;
};

struct PhaseResult {
  std::string label;
  Op op = Op::Get;
  bool tls = false;
  bool mesim = true;
  int connections = 0;
  double opsPerSec = 0, requestsPerSec = 0, p50us = 0, p99us = 0;
  double serverCpuUsPerRequest = 0, serverCpuShare = 0, clientCpuShare = 0;
  long rssBeforeKb = -1, rssAfterKb = -1;
  std::uint64_t ops = 0, challenges = 0, errors = 0;
  std::string note, tlsInfo;
  std::vector<RssSample> rss;
  std::vector<std::string> bodies;
};

class LoadRun {
 public:
  LoadRun(Phase phase, int threads) : ph_(std::move(phase)), threads_(std::max(1, threads)), tlsContext_(ssl::context::tls_client) {
    tlsContext_.set_verify_mode(ssl::verify_none);
    stats_.resize(static_cast<std::size_t>(ph_.connections));
  }

  PhaseResult run() {
    PhaseResult r;
    r.label = ph_.label;
    r.op = ph_.op;
    r.tls = ph_.tls;
    r.mesim = ph_.mesim;
    r.connections = ph_.connections;
    r.rssBeforeKb = ph_.serverPid > 0 ? mesim::test::rssKb(ph_.serverPid) : -1;

    start_ = Clock::now();
    measureFrom_ = start_ + seconds(ph_.totalOps ? 0 : ph_.warmup);
    stopAt_ = measureFrom_ + seconds(ph_.totalOps ? 1e6 : ph_.seconds);
    for (int i = 0; i < ph_.connections; ++i) {
      auto strand = asio::make_strand(io_);
      if (ph_.tls)
        asio::co_spawn(strand, connection<ssl::stream<tcp::socket>>(i), asio::detached);
      else
        asio::co_spawn(strand, connection<tcp::socket>(i), asio::detached);
    }
    asio::co_spawn(asio::make_strand(io_), sampler(), asio::detached);
    std::vector<std::thread> extra;
    for (int t = 1; t < threads_; ++t) extra.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : extra) t.join();

    const double window = std::chrono::duration<double>(windowEnd_ - measureFrom_).count();
    std::vector<double> all;
    for (auto& s : stats_) {
      all.insert(all.end(), s.latenciesUs.begin(), s.latenciesUs.end());
      r.ops += s.ops;
      r.challenges += s.challenges;
      r.errors += s.errors;
      if (!s.error.empty() && r.note.empty()) r.note = s.error;
      if (r.tlsInfo.empty()) r.tlsInfo = s.tlsInfo;
      for (auto& b : s.bodies) r.bodies.push_back(std::move(b));
    }
    std::uint64_t requests = 0;
    for (auto& s : stats_) requests += s.requests;
    std::sort(all.begin(), all.end());
    if (window > 0 && !all.empty()) {
      r.opsPerSec = static_cast<double>(r.ops) / window;
      r.requestsPerSec = static_cast<double>(requests) / window;
      r.p50us = all[all.size() / 2];
      r.p99us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
    }
    if (window > 0 && requests > 0 && serverCpuEnd_ >= 0 && serverCpuStart_ >= 0) {
      r.serverCpuUsPerRequest = (serverCpuEnd_ - serverCpuStart_) * 1e6 / static_cast<double>(requests);
      r.serverCpuShare = (serverCpuEnd_ - serverCpuStart_) / window;
    }
    if (window > 0) r.clientCpuShare = (clientCpuEnd_ - clientCpuStart_) / window;
    r.rssAfterKb = ph_.serverPid > 0 ? mesim::test::rssKb(ph_.serverPid) : -1;
    r.rss = std::move(rss_);
    return r;
  }

 private:
  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  bool finished(Clock::time_point now) const {
    if (ph_.totalOps) return issued_.load(std::memory_order_relaxed) >= ph_.totalOps;
    return now >= stopAt_;
  }

  // CPU of the server and of this process over the measured window.
  asio::awaitable<void> sampler() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_at(measureFrom_);
    co_await timer.async_wait(asio::use_awaitable);
    {
      std::lock_guard lock(sampleMutex_);
      serverCpuStart_ = ph_.serverPid > 0 ? cpuSeconds(ph_.serverPid) : -1;
      clientCpuStart_ = selfCpuSeconds();
      if (ph_.sampleEvery && ph_.serverPid > 0) rss_.push_back({0, mesim::test::rssKb(ph_.serverPid), 0});
    }
    if (ph_.totalOps) co_return;  // the last completion samples the end
    timer.expires_at(stopAt_);
    co_await timer.async_wait(asio::use_awaitable);
    sampleEnd(Clock::now());
  }

  void sampleEnd(Clock::time_point now) {
    std::lock_guard lock(sampleMutex_);
    windowEnd_ = now;
    serverCpuEnd_ = ph_.serverPid > 0 ? cpuSeconds(ph_.serverPid) : -1;
    clientCpuEnd_ = selfCpuSeconds();
  }

  void completed(ConnStats& st, Clock::time_point t0, Clock::time_point t1, std::uint64_t requests) {
    if (ph_.totalOps) {
      st.latenciesUs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      st.ops += 1;
      st.requests += requests;
      const auto done = completedOps_.fetch_add(1) + 1;
      if (ph_.sampleEvery && done % ph_.sampleEvery == 0 && ph_.serverPid > 0) {
        std::lock_guard lock(sampleMutex_);
        rss_.push_back({done, mesim::test::rssKb(ph_.serverPid), std::chrono::duration<double>(t1 - start_).count()});
      }
      if (done == ph_.totalOps) sampleEnd(t1);
      return;
    }
    if (t0 < measureFrom_ || t1 > stopAt_) return;
    st.latenciesUs.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    st.ops += 1;
    st.requests += requests;
  }

  // One client connection: sequential requests on a keep-alive socket; reconnects after a 401 (mesim
  // closes the connection after it, as AMT does) and after a response that is not keep-alive.
  template <class Stream>
  asio::awaitable<void> connection(int index) {
    constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;
    ConnStats& st = stats_[static_cast<std::size_t>(index)];
    auto executor = co_await asio::this_coro::executor;
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), ph_.port);
    std::optional<Stream> stream;
    boost::beast::flat_buffer buffer;
    std::string wire, body, responseBody;
    const std::string hostLine = "Host: 127.0.0.1:" + std::to_string(ph_.port) + "\r\n";
    const std::string ha2 = md5Hex("POST:/wsman");
    const std::string cnonce = md5Hex("cnonce" + std::to_string(index) + std::to_string(::getpid())).substr(0, 16);
    std::string realm, nonce, ha1;
    std::uint32_t nc = 0;
    std::uint64_t messageId = 0;
    if (!ph_.mesim) {
      // nginx never challenges: the same work with a made-up nonce.
      realm = "Digest:00000000000000000000000000000000";
      nonce = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
      ha1 = md5Hex(kUser + ":" + realm + ":" + kPassword);
    }

    auto connect = [&]() -> asio::awaitable<void> {
      if constexpr (kTls) {
        stream.emplace(executor, tlsContext_);
      } else {
        stream.emplace(executor);
      }
      auto& socket = stream->lowest_layer();
      co_await socket.async_connect(endpoint, asio::use_awaitable);
      socket.set_option(tcp::no_delay(true));
      if constexpr (kTls) {
        co_await stream->async_handshake(ssl::stream_base::client, asio::use_awaitable);
        if (st.tlsInfo.empty())
          st.tlsInfo = std::string(SSL_get_version(stream->native_handle())) + " " +
                       SSL_get_cipher_name(stream->native_handle());
      }
    };

    // One request, re-sent after a 401 (new nonce, nc from 1). Returns the final status; the body in responseBody.
    auto exchange = [&](const std::string& soap, std::uint64_t& requests) -> asio::awaitable<unsigned> {
      for (int attempt = 0; attempt < 4; ++attempt) {
        wire.clear();
        wire.append("POST /wsman HTTP/1.1\r\n").append(hostLine);
        wire.append("Content-Type: application/soap+xml;charset=UTF-8\r\n");
        if (!nonce.empty()) {
          char ncHex[9];
          std::snprintf(ncHex, sizeof ncHex, "%08x", ++nc);
          std::string input;
          input.reserve(128);
          input.append(ha1).append(":").append(nonce).append(":").append(ncHex).append(":").append(cnonce);
          input.append(":auth:").append(ha2);
          wire.append("Authorization: Digest username=\"").append(kUser).append("\",realm=\"").append(realm);
          wire.append("\",nonce=\"").append(nonce).append("\",uri=\"/wsman\",response=\"").append(md5Hex(input));
          wire.append("\",qop=auth,nc=").append(ncHex).append(",cnonce=\"").append(cnonce).append("\"\r\n");
        }
        wire.append("Content-Length: ").append(std::to_string(soap.size())).append("\r\n\r\n").append(soap);
        co_await asio::async_write(*stream, asio::buffer(wire), asio::use_awaitable);
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(16 * 1024 * 1024);
        co_await bhttp::async_read(*stream, buffer, parser, asio::use_awaitable);
        ++requests;
        auto& res = parser.get();
        const unsigned status = res.result_int();
        const bool keepAlive = res.keep_alive();
        if (status == 401) {
          ++st.challenges;
          const auto challenge = res[bhttp::field::www_authenticate];
          realm = authParam(challenge, "realm");
          nonce = authParam(challenge, "nonce");
          ha1 = md5Hex(kUser + ":" + realm + ":" + kPassword);
          nc = 0;
        } else {
          responseBody = std::move(res.body());
        }
        if (!keepAlive) {
          boost::system::error_code ignored;
          stream->lowest_layer().close(ignored);
          buffer.clear();
          co_await connect();
        }
        if (status != 401) co_return status;
      }
      co_return 401u;
    };

    try {
      co_await connect();
      for (;;) {
        const auto t0 = Clock::now();
        if (finished(t0)) break;
        if (ph_.totalOps && issued_.fetch_add(1) >= ph_.totalOps) break;
        std::uint64_t requests = 0;
        if (ph_.op == Op::Get) {
          body = getRequest(++messageId);
          const unsigned status = co_await exchange(body, requests);
          if (status != 200) throw std::runtime_error("Get answered " + std::to_string(status));
          if (ph_.captureBodies) st.bodies.push_back(responseBody);
        } else {
          body = enumerateRequest(++messageId, ph_.enumerateUri);
          unsigned status = co_await exchange(body, requests);
          if (status != 200) throw std::runtime_error("Enumerate answered " + std::to_string(status));
          std::string context = between(responseBody, "EnumerationContext>", '<');
          if (context.empty()) throw std::runtime_error("no EnumerationContext in the EnumerateResponse");
          if (ph_.captureBodies) st.bodies.push_back(responseBody);
          // Pull until the sequence ends, each Pull with the context the previous answer gave.
          for (int pulls = 0;; ++pulls) {
            if (pulls == kMaxPullsPerEnumeration) throw std::runtime_error("the enumeration did not end in 1000 Pulls");
            body = pullRequest(++messageId, ph_.enumerateUri, context);
            status = co_await exchange(body, requests);
            if (status != 200) throw std::runtime_error("Pull answered " + std::to_string(status));
            if (ph_.captureBodies) st.bodies.push_back(responseBody);
            if (responseBody.find("EndOfSequence") != std::string::npos) break;
            const std::string next = between(responseBody, "EnumerationContext>", '<');
            if (!next.empty()) context = next;
          }
        }
        completed(st, t0, Clock::now(), requests);
      }
      // No TLS close_notify round trip: just close, as many clients do.
      boost::system::error_code ignored;
      stream->lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
      stream->lowest_layer().close(ignored);
    } catch (const std::exception& e) {
      ++st.errors;
      st.error = e.what();
      if (ph_.totalOps) sampleEndIfStuck();
    }
  }

  void sampleEndIfStuck() {
    std::lock_guard lock(sampleMutex_);
    if (windowEnd_ == Clock::time_point{}) windowEnd_ = Clock::now();
  }

  Phase ph_;
  int threads_;
  asio::io_context io_;
  ssl::context tlsContext_;
  std::vector<ConnStats> stats_;
  Clock::time_point start_, measureFrom_, stopAt_, windowEnd_{};
  std::atomic<std::uint64_t> issued_{0}, completedOps_{0};
  std::mutex sampleMutex_;
  double serverCpuStart_ = -1, serverCpuEnd_ = -1, clientCpuStart_ = 0, clientCpuEnd_ = 0;
  std::vector<RssSample> rss_;
};

// ------------------------------------------------------------------------------------------------
// Report
// ------------------------------------------------------------------------------------------------

struct Options {
  double seconds = 5;
  double warmup = 1;
  int connections = 32;
  int threads = 1;
  bool million = false;
};

const PhaseResult* findResult(const std::vector<PhaseResult>& results, bool mesim, bool tls, Op op) {
  for (auto& r : results)
    if (r.mesim == mesim && r.tls == tls && r.op == op) return &r;
  return nullptr;
}

struct FamilySize {
  std::size_t instances = 0, classes = 0, pullBytes = 0;
};

// Counts the instances in the PullResponses of one enumeration (bodies[0] is the EnumerateResponse).
FamilySize familySize(const std::vector<std::string>& bodies) {
  FamilySize size;
  std::set<std::string> classes;
  for (std::size_t i = 1; i < bodies.size(); ++i) {
    size.pullBytes += bodies[i].size();
    pugi::xml_document doc;
    if (!doc.load_buffer(bodies[i].data(), bodies[i].size())) continue;
    const auto items = doc.select_node("//*[local-name()='Items']").node();
    for (auto instance : items.children()) {
      if (instance.type() != pugi::node_element) continue;
      ++size.instances;
      const std::string name = instance.name();
      classes.insert(name.substr(name.find(':') + 1));
    }
  }
  size.classes = classes.size();
  return size;
}

std::string verdict(bool met) { return met ? "met" : "MISSED"; }

void printTable(const std::vector<PhaseResult>& results, const Options& o, std::size_t getBodySize,
                const std::string& nginxNote, const std::string& loadBefore, const std::string& loadAfter) {
  std::printf("\nWS-Man over keep-alive connections with Digest (MD5, qop=auth, nc growing per request), %d connections,"
              " %.0f s each after %.1f s warm-up, %d client thread(s); nginx: 1 process (master_process off, "
              "worker_processes 1) answering `return 200` with a %zu-byte body (mesim's Get body size)%s\n\n",
              o.connections, o.seconds, o.warmup, o.threads, getBodySize, nginxNote.c_str());
  std::printf("| %-32s | %9s | %10s | %7s | %7s | %9s | %12s | %8s | %-30s |\n", "run", "ops/s", "HTTP req/s", "p50 ms",
              "p99 ms", "vs nginx", "srv CPU us/req", "srv CPU", "target");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(34, '-').c_str(), std::string(11, '-').c_str(),
              std::string(12, '-').c_str(), std::string(9, '-').c_str(), std::string(9, '-').c_str(),
              std::string(11, '-').c_str(), std::string(16, '-').c_str(), std::string(10, '-').c_str(),
              std::string(32, '-').c_str());
  for (auto& r : results) {
    if (r.opsPerSec <= 0) {
      std::printf("| %-32s | FAILED: %s\n", r.label.c_str(), r.note.c_str());
      continue;
    }
    const PhaseResult* ref = r.mesim ? findResult(results, false, r.tls, Op::Get) : nullptr;
    std::string ratio = "-";
    if (ref && ref->requestsPerSec > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fx", r.requestsPerSec / ref->requestsPerSec);
      ratio = buf;
    }
    std::string target;
    if (r.mesim && r.op == Op::Get) {
      const double need = r.tls ? 0.3 : 0.5;
      char buf[96];
      if (ref && ref->requestsPerSec > 0)
        std::snprintf(buf, sizeof buf, ">= %.1fx nginx %s", need,
                      verdict(r.requestsPerSec >= need * ref->requestsPerSec).c_str());
      else
        std::snprintf(buf, sizeof buf, ">= %.1fx nginx n/a", need);
      target = buf;
      if (!r.tls) target += std::string("; p99 < 2 ms ") + verdict(r.p99us < 2000);
    }
    std::printf("| %-32s | %9.0f | %10.0f | %7.3f | %7.3f | %9s | %14.1f | %7.0f%% | %-30s |\n", r.label.c_str(),
                r.opsPerSec, r.requestsPerSec, r.p50us / 1000, r.p99us / 1000, ratio.c_str(),
                r.serverCpuUsPerRequest, r.serverCpuShare * 100, target.c_str());
  }
  std::printf("\nops: a Get, or an Enumerate+Pull pair (2 HTTP requests; latency of the pair); \"vs nginx\" compares HTTP "
              "requests/s with nginx on the same transport; srv CPU = server process user+system time over the window.\n");
  for (auto& r : results) {
    std::printf("  %-32s client CPU %3.0f%%", r.label.c_str(), r.clientCpuShare * 100);
    if (r.challenges) std::printf(", 401s %llu", static_cast<unsigned long long>(r.challenges));
    if (r.errors) std::printf(", errors %llu (%s)", static_cast<unsigned long long>(r.errors), r.note.c_str());
    if (!r.tlsInfo.empty()) std::printf(", %s", r.tlsInfo.c_str());
    if (r.mesim) std::printf(", mesim RSS %ld -> %ld KiB", r.rssBeforeKb, r.rssAfterKb);
    if (!r.mesim && r.clientCpuShare >= 0.9 * o.threads)
      std::printf(" -- limited by the generator, not nginx: ratios against it are upper bounds");
    std::printf("\n");
  }
  // Each side is single-threaded: in a fair run one of them (mesim, or the generator against nginx) is
  // CPU-bound. If neither is, something else on the machine took the CPU and the numbers are not its own.
  bool disturbed = false;
  for (auto& r : results)
    if (r.opsPerSec > 0 && r.serverCpuShare < 0.9 && r.clientCpuShare < 0.9 * o.threads) disturbed = true;
  std::printf("\nload average before %s, after %s%s\n", loadBefore.c_str(), loadAfter.c_str(),
              disturbed ? " -- WARNING: in some runs neither mesim/nginx nor the generator was CPU-bound: other load "
                          "on the machine; rerun when it is idle"
                        : "");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--warmup") o.warmup = std::stod(next());
    else if (a == "--connections") o.connections = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--million") o.million = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S (5)] [--warmup S (1)] [--connections N (32)] [--threads T (1)] [--million]\n",
                   argv[0]);
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);

  const std::string loadBefore = loadAverage();
  mesim::test::DaemonProcess daemon;
  // All load comes from one address: the connection caps (docs/configuration.md) would cut --connections above 32.
  if (!daemon.start({"--fuse", "off", "--preload", "off", "--wsman-max-connections", "0",
                     "--wsman-max-connections-per-address", "0"})) {
    std::fprintf(stderr, "mesim did not start:\n%s\n", daemon.log().c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long idleRss = mesim::test::rssKb(daemon.pid());

  auto mesimPhase = [&](std::string label, bool tls, Op op) {
    Phase p;
    p.label = std::move(label);
    p.port = tls ? daemon.httpsPort() : daemon.httpPort();
    p.tls = tls;
    p.op = op;
    p.connections = o.connections;
    p.serverPid = daemon.pid();
    p.warmup = o.warmup;
    p.seconds = o.seconds;
    return p;
  };

  // Probe: one Get and one Enumerate+Pull, for the body sizes (and to fail early).
  Phase probe = mesimPhase("probe Get", false, Op::Get);
  probe.connections = 1;
  probe.totalOps = 1;
  probe.captureBodies = true;
  auto probed = LoadRun(probe, 1).run();
  if (probed.bodies.empty()) {
    std::fprintf(stderr, "probe Get failed: %s\n%s\n", probed.note.c_str(), daemon.log().c_str());
    return 1;
  }
  const std::string getBody = probed.bodies.front();
  probe.label = "probe Enumerate+Pull";
  probe.op = Op::EnumeratePull;
  auto probedEnum = LoadRun(probe, 1).run();
  if (probedEnum.bodies.size() < 2) {
    std::fprintf(stderr, "probe Enumerate+Pull failed: %s\n", probedEnum.note.c_str());
    return 1;
  }
  std::printf("mesim pid %d: Get response body %zu bytes, EnumerateResponse %zu bytes, PullResponse %zu bytes\n",
              daemon.pid(), getBody.size(), probedEnum.bodies[0].size(), probedEnum.bodies[1].size());
  probe.label = "probe Enumerate+Pull of the largest family";
  probe.enumerateUri = kLargestFamilyUri;
  auto probedFamily = LoadRun(probe, 1).run();
  if (probedFamily.bodies.size() < 2) {
    std::fprintf(stderr, "probe Enumerate+Pull of CIM_ManagedElement failed: %s\n", probedFamily.note.c_str());
    return 1;
  }
  const FamilySize family = familySize(probedFamily.bodies);
  std::printf("largest family CIM_ManagedElement: %zu instances of %zu classes, %zu Pulls, %zu bytes of PullResponses\n",
              family.instances, family.classes, probedFamily.bodies.size() - 1, family.pullBytes);

  Nginx nginx;
  std::string nginxError = nginx.start(getBody);
  std::string nginxNote;
  if (!nginxError.empty()) {
    std::printf("nginx reference unavailable: %s\n", nginxError.c_str());
    nginxNote = " -- NOT RUN";
  } else {
    nginxNote = " (" + nginx.version() + ")";
  }
  auto nginxPhase = [&](std::string label, bool tls) {
    Phase p;
    p.label = std::move(label);
    p.port = tls ? nginx.httpsPort() : nginx.httpPort();
    p.tls = tls;
    p.op = Op::Get;
    p.connections = o.connections;
    p.serverPid = nginx.pid();
    p.mesim = false;
    p.warmup = o.warmup;
    p.seconds = o.seconds;
    return p;
  };

  std::vector<PhaseResult> results;
  auto runPhase = [&](const Phase& p) {
    std::fprintf(stderr, "running %s ...\n", p.label.c_str());
    results.push_back(LoadRun(p, o.threads).run());
  };
  const long beforeRss = mesim::test::rssKb(daemon.pid());
  runPhase(mesimPhase("mesim HTTP Get", false, Op::Get));
  if (nginxError.empty()) runPhase(nginxPhase("nginx HTTP (same-size body)", false));
  runPhase(mesimPhase("mesim TLS Get", true, Op::Get));
  if (nginxError.empty()) runPhase(nginxPhase("nginx TLS (same-size body)", true));
  runPhase(mesimPhase("mesim HTTP Enumerate+Pull", false, Op::EnumeratePull));
  runPhase(mesimPhase("mesim TLS Enumerate+Pull", true, Op::EnumeratePull));
  for (const bool tls : {false, true}) {
    Phase p = mesimPhase(tls ? "mesim TLS CIM_ManagedElement (all)" : "mesim HTTP CIM_ManagedElement (all)", tls,
                         Op::EnumeratePull);
    p.enumerateUri = kLargestFamilyUri;
    runPhase(p);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long afterRss = mesim::test::rssKb(daemon.pid());
  nginx.stop();

  printTable(results, o, getBody.size(), nginxNote, loadBefore, loadAverage());
  std::printf("\nmesim RSS: %ld KiB idle after start, %ld KiB before the runs, %ld KiB after them\n", idleRss, beforeRss,
              afterRss);

  if (o.million) {
    Phase p = mesimPhase("mesim HTTP Get x 1,000,000", false, Op::Get);
    p.totalOps = 1'000'000;
    p.sampleEvery = 100'000;
    std::fprintf(stderr, "running %s ...\n", p.label.c_str());
    auto r = LoadRun(p, o.threads).run();
    std::printf("\n1,000,000 Get requests over HTTP, %d connections: %.0f req/s, p50 %.3f ms, p99 %.3f ms, %llu errors%s\n\n",
                o.connections, r.opsPerSec, r.p50us / 1000, r.p99us / 1000, static_cast<unsigned long long>(r.errors),
                r.note.empty() ? "" : (" (" + r.note + ")").c_str());
    std::printf("| %9s | %9s | %12s | %8s |\n", "requests", "RSS KiB", "vs at 100k", "elapsed s");
    std::printf("|%s|%s|%s|%s|\n", std::string(11, '-').c_str(), std::string(11, '-').c_str(),
                std::string(14, '-').c_str(), std::string(10, '-').c_str());
    long at100k = -1, maxAfter = -1;
    for (auto& s : r.rss) {
      if (s.ops == 100'000) at100k = s.rssKb;
      if (s.ops >= 100'000) maxAfter = std::max(maxAfter, s.rssKb);
      std::printf("| %9llu | %9ld | %+12ld | %8.1f |\n", static_cast<unsigned long long>(s.ops), s.rssKb,
                  at100k >= 0 && s.ops >= 100'000 ? s.rssKb - at100k : 0L, s.elapsed);
    }
    const bool flat = at100k > 0 && r.ops == 1'000'000 && maxAfter - at100k <= 1024;
    std::printf("\nmemory flat across one million requests (RSS never more than 1 MiB above its value at 100k): %s\n",
                verdict(flat).c_str());
  } else {
    std::printf("memory flat across one million requests: run with --million\n");
  }
  daemon.stop();
  return 0;
}
