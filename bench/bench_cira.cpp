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
// 2. WS-Man Get latency through CIRA next to the direct port: tests/support/fake_mps.h in this process as the MPS
//    (TLS, APF admission), driven as MeshCentral drives a device (a channel to 16992, Digest), and a mesim device
//    configured to dial it; p50/p99 of Get AMT_GeneralSettings through the tunnel and over the device's HTTP port.
//
// bench_cira [--devices N] [--gets N] [--storm-timeout-s S] [--no-storm] [--no-latency]
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "bench/support/get_loop.h"
#include "tests/support/daemon_process.h"
#include "tests/support/fake_mps.h"
#include "tests/support/meshcentral_mps.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"

namespace {

namespace fs = std::filesystem;
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

// WS-Man through CIRA with tests/support/fake_mps.h as the MPS, driven as MeshCentral drives a device: channels to
// 16992 (ids from 4, window 32768 given back as answers are read), a first request without credentials whose
// channel is closed after the 401, then Digest with a growing nc on a new channel (spec/cira.md §3).
class CiraWsman {
 public:
  CiraWsman(boost::asio::io_context& io, mesim::test::FakeMps& mps) : io_(io), mps_(mps) {}

  // Runs the MPS's loop one handler at a time until `done`, or `timeout`.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + timeout;
    while (!done() && Clock::now() < deadline) {
      io_.run_one_for(std::chrono::milliseconds(20));
      if (io_.stopped()) io_.restart();
    }
    return done();
  }

  bool open(std::string& why) {
    namespace apf = mesim::lme::apf;
    mine_ = next_++;
    const int before = mps_.count<apf::ChannelOpenConfirmation>() + mps_.count<apf::ChannelOpenFailure>();
    mps_.send(apf::ChannelOpen{"forwarded-tcpip", mine_, kWindow, apf::kReservedMaxPacket, "", 16992, "1.2.3.4",
                               1024 + mine_});
    if (!runUntil([&] {
          return mps_.count<apf::ChannelOpenConfirmation>() + mps_.count<apf::ChannelOpenFailure>() > before;
        })) {
      why = "no answer to CHANNEL_OPEN";
      return false;
    }
    const auto* confirmation = mps_.last<apf::ChannelOpenConfirmation>();
    if (!confirmation || confirmation->recipientChannel != mine_) {
      why = "CHANNEL_OPEN refused";
      return false;
    }
    theirs_ = confirmation->senderChannel;
    read_ = 0;
    return true;
  }

  // Status of the POST of `body` (0 with `why` on a transport error).
  unsigned post(const std::string& body, std::string& why) {
    namespace apf = mesim::lme::apf;
    if (nonce_.empty()) {
      std::string challenge;
      const unsigned status = exchange(request(body, ""), challenge, why);
      if (status != 401) return status;
      realm_ = param(challenge, "realm");
      nonce_ = param(challenge, "nonce");
      const int closes = mps_.count<apf::ChannelClose>();
      mps_.send(apf::ChannelClose{theirs_});
      if (!runUntil([&] { return mps_.count<apf::ChannelClose>() > closes; })) {
        why = "no CHANNEL_CLOSE after the 401";
        return 0;
      }
      if (!open(why)) return 0;
    }
    std::string ignored;
    return exchange(request(body, authorization()), ignored, why);
  }

 private:
  static constexpr std::uint32_t kWindow = 32768;

  unsigned exchange(const std::string& text, std::string& wwwAuthenticate, std::string& why) {
    namespace apf = mesim::lme::apf;
    namespace http = boost::beast::http;
    mps_.send(apf::ChannelData{theirs_, mesim::hbm::Bytes(text.begin(), text.end())});
    unsigned status = 0;
    std::size_t used = 0;
    auto complete = [&] {
      const std::string& data = mps_.dataByChannel[mine_];
      if (data.size() <= read_) return false;
      http::response_parser<http::string_body> parser;
      parser.eager(true);
      boost::system::error_code ec;
      used = parser.put(boost::asio::buffer(data.data() + read_, data.size() - read_), ec);
      if (ec || !parser.is_done()) return false;
      status = parser.get().result_int();
      wwwAuthenticate = std::string(parser.get()[http::field::www_authenticate]);
      return true;
    };
    if (!runUntil(complete)) {
      why = "no whole answer through the tunnel";
      return 0;
    }
    read_ += used;
    // The window is given back as soon as the answer is read.
    mps_.send(apf::ChannelWindowAdjust{theirs_, static_cast<std::uint32_t>(used)});
    return status;
  }

  static std::string param(const std::string& header, const std::string& name) {
    auto at = header.find(name + "=\"");
    if (at == std::string::npos) return {};
    at += name.size() + 2;
    return header.substr(at, header.find('"', at) - at);
  }
  std::string authorization() {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nc_);
    const std::string ha1 = mesim::test::md5Hex("admin:" + realm_ + ":" + kPassword);
    const std::string ha2 = mesim::test::md5Hex("POST:/wsman");
    const std::string response = mesim::test::md5Hex(ha1 + ":" + nonce_ + ":" + nc + ":0a4f113b:auth:" + ha2);
    return "Digest username=\"admin\", realm=\"" + realm_ + "\", nonce=\"" + nonce_ + "\", uri=\"/wsman\", qop=auth, nc=" +
           nc + ", cnonce=\"0a4f113b\", response=\"" + response + "\"";
  }
  static std::string request(const std::string& body, const std::string& authorization) {
    return "POST /wsman HTTP/1.1\r\nHost: 127.0.0.1:16992\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n" +
           (authorization.empty() ? std::string() : "Authorization: " + authorization + "\r\n") +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

 public:
  static constexpr const char* kPassword = "P@ssw0rd";

 private:
  boost::asio::io_context& io_;
  mesim::test::FakeMps& mps_;
  std::uint32_t next_ = 4, mine_ = 0, theirs_ = 0;
  std::size_t read_ = 0;
  std::string realm_, nonce_;
  unsigned nc_ = 0;
};

int getLatency(int gets) {
  using namespace mesim::test;
  boost::asio::io_context io;
  FakeMps mps(io);
  mps.noDelay = true;  // else a message after a small one waits for the device's delayed ACK
  const fs::path work = makeTempDir("bench-cira");
  const fs::path rootPath = work / "root.pem";
  std::ofstream(rootPath) << pemOf(mpsPki().root);
  DaemonProcess daemon;
  if (!daemon.start({"--fuse", "off", "--admin-password", CiraWsman::kPassword, "--cira-mps",
                     "127.0.0.1:" + std::to_string(mps.port()), "--cira-user", "0123456789abcdef", "--cira-password",
                     mps.password, "--cira-root", rootPath.string(), "--cira-cn", "mps.mesim.test"})) {
    std::fprintf(stderr, "mesim did not start:\n%s\n", daemon.log().c_str());
    return 1;
  }
  CiraWsman tunnel(io, mps);
  std::string why;
  if (!tunnel.runUntil([&] { return mps.forwards.size() >= 5; }, std::chrono::seconds(30)) || !tunnel.open(why)) {
    std::fprintf(stderr, "CIRA: %s\n--- mesim log ---\n%s\n", why.c_str(), daemon.log().c_str());
    return 1;
  }
  const std::string body = wsmanGetGeneralSettings();
  if (const auto status = tunnel.post(body, why); status != 200) {  // the Digest challenge, not timed
    std::fprintf(stderr, "first Get through CIRA: %u %s\n", status, why.c_str());
    return 1;
  }
  std::vector<double> tunnelUs;
  const double cpu0 = processCpuSeconds(daemon.pid());
  for (int i = 0; i < gets; ++i) {
    const auto start = Clock::now();
    if (const auto status = tunnel.post(body, why); status != 200) {
      std::fprintf(stderr, "Get %d through CIRA: %u %s\n", i, status, why.c_str());
      return 1;
    }
    tunnelUs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  const double tunnelCpuUs = (processCpuSeconds(daemon.pid()) - cpu0) * 1e6 / gets;
  std::vector<double> directUs;
  WsmanDigestClient direct(daemon.httpPort(), "admin", CiraWsman::kPassword);
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
              "16992, tests/support/fake_mps.h in this process as the MPS) next to the device's HTTP port\n", gets);
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
