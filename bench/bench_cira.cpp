// CIRA (issue 15 item 5), two tables, loopback only, every wait bounded.
//
// 1. Connect storm: MeshCentral (tests/clients/node_modules, spec/cira.md) as the MPS. First the reference: N
//    devices of tests/clients/cira_reference_client.js (TLS + APF admission, keep-alives, serves nothing) dial it at
//    once; the time until the client has them all admitted and until MeshCentral lists them all online (conn & 2).
//    Then mesim with --fleet N-1 and the --cira-* options, in a group of its own: the time from exec until
//    MeshCentral lists all N online, and until its AMT manager has run its WS-Man sequence through every tunnel
//    (intelamt.ver set). Next to each phase, the CPU seconds MeshCentral (node) and the client (mesim or the
//    reference) used over it: the side near one core per second of wall time is the bottleneck (MeshCentral is one
//    node process; mesim's devices share one loop).
// 2. WS-Man Get latency through CIRA next to the direct port: a minimal MPS in this program (TLS, APF admission, one
//    channel to 16992, Digest) and a mesim device configured to dial it; p50/p99 of Get AMT_GeneralSettings through
//    the tunnel and over the device's own HTTP port.
//
// bench_cira [--devices N] [--gets N] [--storm-timeout-s S] [--no-storm] [--no-latency]
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "bench/support/get_loop.h"
#include "tests/support/daemon_process.h"
#include "tests/support/meshcentral_mps.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using mesim::test::DaemonProcess;
using mesim::test::MeshCentralMps;
using mesim::test::makeTempDir;

const fs::path kClientsDir = fs::path(MESIM_SOURCE_DIR) / "tests" / "clients";

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// CPU seconds a process's live threads ran, from the scheduler's nanosecond counters (/proc/PID/task/*/schedstat):
// clock ticks of /proc/PID/stat are 10 ms, too coarse for tens of microseconds per Get.
double processCpuSeconds(pid_t pid) {
  double total = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    double ns = 0;
    if (in >> ns) total += ns / 1e9;
  }
  return total;
}

// The same for every process of the group `pgid` (MeshCentral's watchdog parent and its child).
double groupCpuSeconds(pid_t pgid) {
  double total = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state, ppid, pgrp;
    fields >> state >> ppid >> pgrp;  // after ")": state ppid pgrp ...
    if (pgrp.empty() || std::stol(pgrp) != pgid) continue;
    total += processCpuSeconds(std::stoi(name));
  }
  return total;
}

// How many devices of `groupId` MeshCentral lists online via CIRA, and how many of those it has managed
// (intelamt.ver set); -1 on an error.
std::pair<int, int> onlineAndManaged(MeshCentralMps& mps, const std::string& groupId) {
  auto devices = mps.listDevices();
  if (!devices) return {-1, -1};
  int online = 0, managed = 0;
  for (const auto& d : *devices) {
    if (d.meshId != groupId || !d.ciraConnected()) continue;
    ++online;
    if (!d.amtVersion.empty()) ++managed;
  }
  return {online, managed};
}

struct Phase {
  double allOnlineS = -1;   // until MeshCentral lists every device online
  double allManagedS = -1;  // until every device has intelamt.ver (mesim only)
  double clientAdmittedS = -1;  // reference only: the client's own view
  double readyS = -1;           // mesim only: exec to the process's ready line
  double mpsCpuS = 0, clientCpuS = 0, wallS = 0;
  int online = 0, managed = 0;
};

void printPhase(const char* name, int n, const Phase& p, const Phase* reference) {
  auto cell = [](double v) {
    char b[32];
    if (v < 0) std::snprintf(b, sizeof b, "%10s", "-");
    else std::snprintf(b, sizeof b, "%10.2f", v);
    return std::string(b);
  };
  const std::string managed = p.managed < 0 ? "-" : std::to_string(p.managed);
  std::printf("%-22s %6d %8d %8s %s %s %s %s %s %8.2f %8.2f", name, n, p.online, managed.c_str(),
              cell(p.clientAdmittedS).c_str(),
              cell(p.allOnlineS).c_str(), cell(p.allManagedS).c_str(), cell(p.mpsCpuS).c_str(),
              cell(p.clientCpuS).c_str(), p.wallS > 0 ? p.mpsCpuS / p.wallS : 0, p.wallS > 0 ? p.clientCpuS / p.wallS : 0);
  if (reference && reference->allOnlineS > 0 && p.allOnlineS > 0)
    std::printf(" %8.2fx", p.allOnlineS / reference->allOnlineS);
  std::printf("\n");
  std::fflush(stdout);
}

int connectStorm(int n, int timeoutS) {
  if (auto why = MeshCentralMps::unavailableReason(kClientsDir); !why.empty()) {
    std::printf("connect storm skipped: %s\n", why.c_str());
    return 0;
  }
  mesim::test::MeshCentralMpsOptions options;
  options.debug = "";  // a thousand devices' APF traces would cost MeshCentral more than the admissions
  MeshCentralMps mps(kClientsDir, options);
  if (!mps.start()) {
    std::fprintf(stderr, "MeshCentral did not start: %s\n", mps.error().c_str());
    return 1;
  }
  auto referenceGroup = mps.createAmtGroup("reference");
  auto mesimGroup = mps.createAmtGroup("mesim");
  if (!referenceGroup || !mesimGroup) {
    std::fprintf(stderr, "no device group: %s\n", mps.error().c_str());
    return 1;
  }
  std::printf("\nCIRA connect storm: %d devices at once into MeshCentral 1.1.55 on 127.0.0.1:%u (TLS, APF, "
              "keep-alive 30 s)\n", n, mps.mpsPort());
  std::printf("%-22s %6s %8s %8s %10s %10s %10s %10s %10s %8s %8s %9s\n", "client", "N", "online", "managed",
              "admit (s)", "online (s)", "mgd (s)", "MC cpu s", "cli cpu s", "MC/wall", "cli/wall", "x ref");

  // The reference: admissions only.
  Phase ref;
  {
    mesim::test::CiraReferenceFleet fleet(kClientsDir, mps.workDir() / "reference.jsonl");
    mesim::test::CiraReferenceFleet::Options fo;
    fo.count = n;
    fo.timeoutS = timeoutS;
    const double mpsCpu0 = groupCpuSeconds(mps.pid());
    const auto t0 = Clock::now();
    if (!fleet.start(mps, referenceGroup->ciraUser, fo)) return 1;
    auto admitted = fleet.waitAdmitted();
    if (admitted) {
      const auto* all = admitted->if_contains("allAdmittedMs");
      if (all && all->is_number()) ref.clientAdmittedS = all->to_number<double>() / 1000.0;
      if (const auto* cpu = admitted->if_contains("cpuMs"); cpu && cpu->is_number())
        ref.clientCpuS = cpu->to_number<double>() / 1000.0;
    }
    const auto deadline = t0 + std::chrono::seconds(timeoutS);
    while (Clock::now() < deadline) {
      auto [online, managed] = onlineAndManaged(mps, referenceGroup->id);
      ref.online = online;
      if (online == n) {
        ref.allOnlineS = secondsSince(t0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    ref.wallS = secondsSince(t0);
    ref.mpsCpuS = groupCpuSeconds(mps.pid()) - mpsCpu0;
    if (auto done = fleet.stop(); done)
      if (const auto* cpu = done->if_contains("cpuMs"); cpu && cpu->is_number())
        ref.clientCpuS = cpu->to_number<double>() / 1000.0;
    printPhase("reference (admission)", n, ref, nullptr);
  }
  // Let MeshCentral see the reference tunnels close before the next phase is timed.
  for (auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until;) {
    if (onlineAndManaged(mps, referenceGroup->id).first == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  // mesim: N devices of one process, each with its own CIRA tunnel, served through it. A first start (state made
  // for every device, on disk) and a restart on that state (MeshCentral knows the devices then).
  const fs::path stateDir = makeTempDir("cira-state"), runDir = makeTempDir("cira-run");
  std::vector<Phase> phases;
  bool allOnline = ref.online == n;
  for (const char* label : {"mesim first start", "mesim restart"}) {
    Phase mes;
    DaemonProcess daemon(stateDir, runDir);
    const double mpsCpu0 = groupCpuSeconds(mps.pid());
    const auto t0 = Clock::now();
    const bool started = daemon.start(
        {"--fuse", "off", "--fleet", std::to_string(n - 1), "--admin-password", mps.options().amtPassword,
         "--cira-mps", "127.0.0.1:" + std::to_string(mps.mpsPort()), "--cira-user", mesimGroup->ciraUser,
         "--cira-password", mps.mpsPassword(), "--cira-root", mps.rootCertificatePath().string(), "--cira-cn",
         mps.mpsCertificateCn()},
        std::chrono::seconds(timeoutS));
    if (!started) {
      std::fprintf(stderr, "mesim --fleet %d did not start:\n%s\n", n - 1, daemon.log().substr(0, 4000).c_str());
      return 1;
    }
    mes.readyS = secondsSince(t0);
    // MeshCentral keeps intelamt.ver of a known device, so "managed" is timed on the first start only.
    const bool timeManaged = phases.empty();
    const auto deadline = t0 + std::chrono::seconds(timeoutS);
    while (Clock::now() < deadline) {
      auto [online, managed] = onlineAndManaged(mps, mesimGroup->id);
      mes.online = std::max(mes.online, online);
      mes.managed = timeManaged ? managed : -1;
      if (online == n && mes.allOnlineS < 0) mes.allOnlineS = secondsSince(t0);
      if (timeManaged && managed == n) mes.allManagedS = secondsSince(t0);
      if (mes.allOnlineS >= 0 && (!timeManaged || mes.allManagedS >= 0)) break;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    mes.wallS = secondsSince(t0);
    mes.mpsCpuS = groupCpuSeconds(mps.pid()) - mpsCpu0;
    mes.clientCpuS = processCpuSeconds(daemon.pid());
    printPhase(label, n, mes, &ref);
    // What the devices' CIRA clients logged: tunnels up, failed attempts and their reasons.
    std::istringstream lines(daemon.log());
    int up = 0, failed = 0;
    std::map<std::string, int> reasons;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("CIRA tunnel to") != std::string::npos && line.find(" is up") != std::string::npos) ++up;
      if (line.find("CIRA connection to") == std::string::npos || line.find("failed: ") == std::string::npos) continue;
      ++failed;
      std::string why = line.substr(line.find("failed: ") + 8);
      why = std::regex_replace(why, std::regex(R"(127\.0\.0\.1:\d+)"), "MPS");
      ++reasons[why.substr(0, 100)];
    }
    std::printf("  ready after %.2f s, all online %.2f s after ready; %d tunnels up, %d failed attempts", mes.readyS,
                mes.allOnlineS >= 0 ? mes.allOnlineS - mes.readyS : -1.0, up, failed);
    for (const auto& [why, count] : reasons) std::printf("; %dx %s", count, why.c_str());
    std::printf("\n");
    std::fflush(stdout);
    daemon.stop();
    allOnline = allOnline && mes.online == n;
    phases.push_back(mes);
    // The next phase starts with the group offline.
    for (auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until;) {
      if (onlineAndManaged(mps, mesimGroup->id).first == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  std::printf("online (s), mgd (s): from the exec of mesim (the reference: from its first connect) until MeshCentral "
              "lists every device online / managed (intelamt.ver; first start only: MeshCentral keeps it for a known "
              "device), polled about once a second. x ref: online (s) over the reference's; mesim's includes "
              "making or reading every device's state (until its ready line; devices dial as soon as each is open). MC cpu s, cli cpu s: "
              "CPU seconds of MeshCentral (node, one process) and of the client over the phase; a side near 1.0 "
              "cpu/wall holds a core the whole time and is the bottleneck. MeshCentral manages at most 50 devices at "
              "once and waits ~0.8 s of its own per device (300 ms after USERAUTH, 500 ms after the first 401), so "
              "managing N devices takes >= N/50 x 0.8 s whatever the device does.\n");
  for (std::size_t i = 0; i < phases.size(); ++i) {
    const auto& mes = phases[i];
    const bool nodeBound = mes.wallS > 0 && mes.mpsCpuS / mes.wallS > 0.8;
    const bool mesimBound = mes.wallS > 0 && mes.clientCpuS / mes.wallS > 0.8;
    std::printf("bottleneck (%s): %s\n", i == 0 ? "mesim first start" : "mesim restart",
                nodeBound && !mesimBound   ? "MeshCentral's node process"
                : mesimBound && !nodeBound ? "mesim's loop"
                : nodeBound                ? "both (2 cores shared)"
                                           : "neither saturated: MeshCentral's pacing (task limit and its waits)");
  }
  std::error_code ec;
  fs::remove_all(stateDir, ec);
  fs::remove_all(runDir, ec);
  return allOnline ? 0 : 1;
}

// --- a minimal MPS: TLS, APF admission, one channel to 16992 ------------------------------------------------------

namespace apf {
constexpr std::uint8_t kServiceRequest = 5, kServiceAccept = 6, kUserauthRequest = 50, kUserauthSuccess = 52,
                       kGlobalRequest = 80, kRequestSuccess = 81, kChannelOpen = 90, kOpenConfirmation = 91,
                       kOpenFailure = 92, kWindowAdjust = 93, kChannelData = 94, kChannelClose = 97,
                       kDisconnect = 1, kProtocolVersion = 192, kKeepaliveRequest = 208, kKeepaliveReply = 209,
                       kKeepaliveOptionsRequest = 210, kKeepaliveOptionsReply = 211;
}  // namespace apf

using Bytes = std::string;

void putU32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b += static_cast<char>((v >> s) & 0xFF);
}
void putString(Bytes& b, const std::string& s) {
  putU32(b, static_cast<std::uint32_t>(s.size()));
  b += s;
}
std::uint32_t getU32(const Bytes& b, std::size_t at) {
  return (std::uint32_t(std::uint8_t(b[at])) << 24) | (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}

// Length of the device's message at the start of `b`: 0 if incomplete, -1 if unknown.
long messageLength(const Bytes& b) {
  if (b.empty()) return 0;
  auto need = [&](std::size_t n) { return b.size() >= n ? static_cast<long>(n) : 0L; };
  auto strEnd = [&](std::size_t at) -> std::size_t { return b.size() >= at + 4 ? at + 4 + getU32(b, at) : SIZE_MAX; };
  switch (static_cast<std::uint8_t>(b[0])) {
    case apf::kDisconnect: return need(7);
    case apf::kProtocolVersion: return need(93);
    case apf::kServiceRequest: { auto e = strEnd(1); return e == SIZE_MAX ? 0 : need(e); }
    case apf::kUserauthRequest: {
      auto e = strEnd(1); if (e == SIZE_MAX) return 0;
      e = strEnd(e); if (e == SIZE_MAX) return 0;
      const auto methodAt = e;
      e = strEnd(e); if (e == SIZE_MAX) return 0;
      if (b.compare(methodAt + 4, e - methodAt - 4, "password") != 0) return need(e);
      e = strEnd(e + 1); return e == SIZE_MAX ? 0 : need(e);
    }
    case apf::kGlobalRequest: {
      auto e = strEnd(1); if (e == SIZE_MAX) return 0;
      const std::string name = b.substr(5, e - 5);
      if (name != "tcpip-forward" && name != "cancel-tcpip-forward") return -1;
      e = strEnd(e + 1); return e == SIZE_MAX ? 0 : need(e + 4);
    }
    case apf::kOpenConfirmation: case apf::kOpenFailure: return need(17);
    case apf::kWindowAdjust: return need(9);
    case apf::kChannelData: return b.size() >= 9 ? need(9 + getU32(b, 5)) : 0;
    case apf::kChannelClose: case apf::kKeepaliveRequest: case apf::kKeepaliveReply: return need(5);
    case apf::kKeepaliveOptionsReply: return need(9);
    default: return -1;
  }
}

class MiniMps {
 public:
  MiniMps(const mesim::test::Cert& cert, const mesim::test::Pkey& key)
      : ctx_(asio::ssl::context::tls_server), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    SSL_CTX_use_certificate(ctx_.native_handle(), cert.get());
    SSL_CTX_use_PrivateKey(ctx_.native_handle(), key.get());
    // After the certificate: an SSL object takes the context's certificate when it is made.
    stream_.emplace(io_, ctx_);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the device and admits it (apf.md §3 steps 1-5); true once its forwards are in.
  bool admit(std::chrono::seconds timeout, std::string& why) {
    acceptor_.non_blocking(true);
    boost::system::error_code ec;
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      acceptor_.accept(stream_->next_layer(), ec);
      if (!ec) break;
      if (ec != asio::error::would_block || Clock::now() > deadline) {
        why = "no connection from the device: " + ec.message();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    timeval tv{10, 0};
    ::setsockopt(stream_->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    stream_->next_layer().set_option(asio::ip::tcp::no_delay(true));
    stream_->handshake(asio::ssl::stream_base::server, ec);
    if (ec) {
      why = "TLS handshake: " + ec.message();
      return false;
    }
    std::set<std::uint32_t> forwarded;
    while (Clock::now() < deadline) {
      Bytes m;
      if (!read(m, why)) return false;
      if (handleHousekeeping(m)) continue;
      Bytes out;
      switch (static_cast<std::uint8_t>(m[0])) {
        case apf::kProtocolVersion: break;
        case apf::kServiceRequest:
          out += static_cast<char>(apf::kServiceAccept);
          putString(out, m.substr(5));
          break;
        case apf::kUserauthRequest: out += static_cast<char>(apf::kUserauthSuccess); break;
        case apf::kGlobalRequest: {
          const auto nameEnd = 5 + getU32(m, 1);
          const auto port = getU32(m, m.size() - 4);
          if (m.compare(5, nameEnd - 5, "tcpip-forward") == 0) {
            out += static_cast<char>(apf::kRequestSuccess);
            putU32(out, port);
            forwarded.insert(port);
            if (port == 5900) {
              out += static_cast<char>(apf::kKeepaliveOptionsRequest);
              putU32(out, 30);
              putU32(out, 0);
            }
          }
          break;
        }
        default: break;
      }
      if (!out.empty() && !write(out, why)) return false;
      if (forwarded.count(16992) && forwarded.count(5900)) return true;
    }
    why = "admission did not finish";
    return false;
  }

  // Opens a forwarded-tcpip channel to 16992 as MeshCentral does (spec/cira.md §3).
  bool openChannel(std::string& why) {
    myChannel_ = nextChannel_++;
    Bytes out;
    out += static_cast<char>(apf::kChannelOpen);
    putString(out, "forwarded-tcpip");
    putU32(out, myChannel_);
    putU32(out, kMyWindow);
    putU32(out, 0xFFFFFFFF);
    putString(out, "");
    putU32(out, 16992);
    putString(out, "1.2.3.4");
    putU32(out, 1024);
    if (!write(out, why)) return false;
    for (;;) {
      Bytes m;
      if (!read(m, why)) return false;
      if (handleHousekeeping(m)) continue;
      if (static_cast<std::uint8_t>(m[0]) == apf::kOpenConfirmation && getU32(m, 1) == myChannel_) {
        deviceChannel_ = getU32(m, 5);
        sendWindow_ = getU32(m, 9);
        return true;
      }
      if (static_cast<std::uint8_t>(m[0]) == apf::kOpenFailure) {
        why = "CHANNEL_OPEN_FAILURE " + std::to_string(getU32(m, 5));
        return false;
      }
    }
  }

  // Closes the channel and waits for the device's CHANNEL_CLOSE (its own, or its answer to ours): what MeshCentral
  // does after a 401 before it resends with Digest on a new channel.
  bool closeChannel(std::string& why) {
    Bytes out;
    out += static_cast<char>(apf::kChannelClose);
    putU32(out, deviceChannel_);
    if (!write(out, why)) return false;
    for (;;) {
      Bytes m;
      if (!read(m, why)) return false;
      if (handleHousekeeping(m)) continue;
      if (static_cast<std::uint8_t>(m[0]) == apf::kChannelClose && getU32(m, 1) == myChannel_) return true;
    }
  }

  // One HTTP request through the channel and its whole answer.
  bool exchange(const std::string& request, unsigned& status, std::string& wwwAuthenticate, std::string& why) {
    if (request.size() > sendWindow_) {
      why = "request larger than the device's window";
      return false;
    }
    Bytes out;
    out += static_cast<char>(apf::kChannelData);
    putU32(out, deviceChannel_);
    putString(out, request);
    sendWindow_ -= static_cast<std::uint32_t>(request.size());
    if (!write(out, why)) return false;
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(16u << 20);
    while (!parser.is_done()) {
      Bytes m;
      if (!read(m, why)) return false;
      if (handleHousekeeping(m)) continue;
      if (static_cast<std::uint8_t>(m[0]) == apf::kChannelClose && getU32(m, 1) == myChannel_) {
        why = "the device closed the channel";
        return false;
      }
      if (static_cast<std::uint8_t>(m[0]) != apf::kChannelData || getU32(m, 1) != myChannel_) continue;
      const auto length = getU32(m, 5);
      boost::system::error_code ec;
      std::size_t used = 0;
      const char* data = m.data() + 9;
      while (used < length && !parser.is_done()) {
        used += parser.put(asio::buffer(data + used, length - used), ec);
        if (ec == http::error::need_more) {
          ec = {};
          break;
        }
        if (ec) {
          why = "HTTP: " + ec.message();
          return false;
        }
      }
      // The window is given back as soon as the bytes are read, as MeshCentral does past half of it.
      Bytes adjust;
      adjust += static_cast<char>(apf::kWindowAdjust);
      putU32(adjust, deviceChannel_);
      putU32(adjust, length);
      if (!write(adjust, why)) return false;
    }
    status = parser.get().result_int();
    wwwAuthenticate = std::string(parser.get()[http::field::www_authenticate]);
    return true;
  }

 private:
  static constexpr std::uint32_t kMyWindow = 32768;

  // Keep-alives and window adjustments, whenever they come.
  bool handleHousekeeping(const Bytes& m) {
    std::string ignored;
    switch (static_cast<std::uint8_t>(m[0])) {
      case apf::kKeepaliveRequest: {
        Bytes out(1, static_cast<char>(apf::kKeepaliveReply));
        out += m.substr(1, 4);
        write(out, ignored);
        return true;
      }
      case apf::kKeepaliveReply: case apf::kKeepaliveOptionsReply: return true;
      case apf::kWindowAdjust: sendWindow_ += getU32(m, 5); return true;
      default: return false;
    }
  }

  bool read(Bytes& message, std::string& why) {
    for (;;) {
      const long length = messageLength(buffer_);
      if (length < 0) {
        why = "unknown APF message " + std::to_string(static_cast<std::uint8_t>(buffer_[0]));
        return false;
      }
      if (length > 0) {
        message = buffer_.substr(0, static_cast<std::size_t>(length));
        buffer_.erase(0, static_cast<std::size_t>(length));
        return true;
      }
      char chunk[16384];
      boost::system::error_code ec;
      const auto n = stream_->read_some(asio::buffer(chunk), ec);
      if (ec) {
        why = "read: " + ec.message();
        return false;
      }
      buffer_.append(chunk, n);
    }
  }

  bool write(const Bytes& data, std::string& why) {
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(data), ec);
    if (ec) why = "write: " + ec.message();
    return !ec;
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket>> stream_;
  Bytes buffer_;
  std::uint32_t nextChannel_ = 4;  // MeshCentral's first channel id (spec/cira.md §3)
  std::uint32_t myChannel_ = 0;
  std::uint32_t deviceChannel_ = 0;
  std::uint32_t sendWindow_ = 0;
};

std::string digestParam(const std::string& header, const std::string& name) {
  auto at = header.find(name + "=\"");
  if (at == std::string::npos) return {};
  at += name.size() + 2;
  return header.substr(at, header.find('"', at) - at);
}

int getLatency(int gets) {
  using namespace mesim::test;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  Pkey rootKey = makeRsaKey(2048);
  CertSpec rootSpec;
  rootSpec.commonName = "bench MPS root";
  rootSpec.isCa = true;
  rootSpec.notBefore = now - 86400;
  rootSpec.notAfter = now + 86400;
  Cert root = makeCert(rootSpec, rootKey, nullptr, rootKey);
  Pkey key = makeRsaKey(2048);
  CertSpec leafSpec;
  leafSpec.commonName = "mps.bench.test";
  leafSpec.dnsNames = {"mps.bench.test"};
  leafSpec.notBefore = now - 86400;
  leafSpec.notAfter = now + 86400;
  leafSpec.serial = 2;
  Cert leaf = makeCert(leafSpec, key, root, rootKey);
  const fs::path work = makeTempDir("bench-cira");
  const fs::path rootPath = work / "root.pem";
  {
    BIO* bio = BIO_new_file(rootPath.c_str(), "w");
    PEM_write_bio_X509(bio, root.get());
    BIO_free(bio);
  }
  MiniMps mps(leaf, key);
  DaemonProcess daemon;
  const std::string password = "P@ssw0rd";
  if (!daemon.start({"--fuse", "off", "--admin-password", password, "--cira-mps",
                     "127.0.0.1:" + std::to_string(mps.port()), "--cira-user", "benchbenchbench1", "--cira-password",
                     "bench-pass", "--cira-root", rootPath.string(), "--cira-cn", "mps.bench.test"})) {
    std::fprintf(stderr, "mesim did not start:\n%s\n", daemon.log().c_str());
    return 1;
  }
  std::string why;
  if (!mps.admit(std::chrono::seconds(60), why) || !mps.openChannel(why)) {
    std::fprintf(stderr, "CIRA: %s\n--- mesim log ---\n%s\n", why.c_str(), daemon.log().c_str());
    return 1;
  }
  // Digest as WsmanDigestClient does it: one challenge, then a growing nc on the same channel.
  const std::string body = wsmanGetGeneralSettings();
  auto request = [&](const std::string& authorization) {
    return "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:16992\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n" +
           (authorization.empty() ? std::string() : "Authorization: " + authorization + "\r\n") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  unsigned status = 0;
  std::string challenge;
  if (!mps.exchange(request(""), status, challenge, why) || status != 401) {
    std::fprintf(stderr, "first request: %u %s\n", status, why.c_str());
    return 1;
  }
  if (!mps.closeChannel(why) || !mps.openChannel(why)) {
    std::fprintf(stderr, "CIRA: new channel after the 401: %s\n", why.c_str());
    return 1;
  }
  const std::string realm = digestParam(challenge, "realm"), nonce = digestParam(challenge, "nonce");
  const std::string ha1 = md5Hex("admin:" + realm + ":" + password), ha2 = md5Hex("POST:/wsman");
  unsigned nc = 0;
  auto authorization = [&] {
    char ncText[9];
    std::snprintf(ncText, sizeof ncText, "%08x", ++nc);
    const std::string response = md5Hex(ha1 + ":" + nonce + ":" + ncText + ":0a4f113b:auth:" + ha2);
    return "Digest username=\"admin\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"/wsman\", qop=auth, nc=" +
           ncText + ", cnonce=\"0a4f113b\", response=\"" + response + "\"";
  };
  std::vector<double> tunnelUs;
  const double cpu0 = processCpuSeconds(daemon.pid());
  for (int i = 0; i < gets; ++i) {
    const auto start = Clock::now();
    if (!mps.exchange(request(authorization()), status, challenge, why) || status != 200) {
      std::fprintf(stderr, "Get %d through CIRA: %u %s\n", i, status, why.c_str());
      return 1;
    }
    tunnelUs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const double tunnelCpuUs = (processCpuSeconds(daemon.pid()) - cpu0) * 1e6 / gets;
  std::vector<double> directUs;
  WsmanDigestClient direct(daemon.httpPort(), "admin", password);
  const double cpu1 = processCpuSeconds(daemon.pid());
  for (int i = 0; i < gets; ++i) {
    const auto start = Clock::now();
    if (direct.post(body).status != 200) {
      std::fprintf(stderr, "direct Get %d failed\n", i);
      return 1;
    }
    directUs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const double directCpuUs = (processCpuSeconds(daemon.pid()) - cpu1) * 1e6 / gets;
  const auto t = mesim::bench::percentiles(tunnelUs), d = mesim::bench::percentiles(directUs);
  std::printf("\nWS-Man Get AMT_GeneralSettings (Digest, keep-alive), %d each: through CIRA (TLS + APF channel to "
              "16992, this program as the MPS) next to the device's HTTP port\n", gets);
  std::printf("%-16s %10s %10s %10s %16s\n", "path", "p50 (us)", "p99 (us)", "max (us)", "mesim cpu/Get us");
  std::printf("%-16s %10.1f %10.1f %10.1f %16.1f\n", "direct 16992", d.p50, d.p99, d.max, directCpuUs);
  std::printf("%-16s %10.1f %10.1f %10.1f %16.1f   %.2fx direct\n", "CIRA tunnel", t.p50, t.p99, t.max, tunnelCpuUs,
              d.p50 > 0 ? t.p50 / d.p50 : 0);
  daemon.stop();
  std::error_code ec;
  fs::remove_all(work, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int devices = 1000, gets = 2000, stormTimeoutS = 300;
  bool storm = true, latency = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--devices" && i + 1 < argc) devices = std::atoi(argv[++i]);
    else if (a == "--gets" && i + 1 < argc) gets = std::atoi(argv[++i]);
    else if (a == "--storm-timeout-s" && i + 1 < argc) stormTimeoutS = std::atoi(argv[++i]);
    else if (a == "--no-storm") storm = false;
    else if (a == "--no-latency") latency = false;
    else {
      std::fprintf(stderr, "usage: bench_cira [--devices N] [--gets N] [--storm-timeout-s S] [--no-storm] [--no-latency]\n");
      return 2;
    }
  }
  int rc = 0;
  if (latency) rc |= getLatency(std::max(gets, 1));
  if (storm) rc |= connectStorm(std::max(devices, 1), stormTimeoutS);
  return rc;
}
