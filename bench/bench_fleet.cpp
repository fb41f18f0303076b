// Many devices in one process (issue 9 item 7, issue 15 item 5): the real `mesim` started with --fleet N-1 (FUSE
// off, each device on its own loopback address), time from exec to the process's "ready" line and the process's
// idle RSS, for 1, 100, 1,000 and 10,000 devices, on a fresh state dir (first start: state files per device; TLS keys are made on first use) and
// again on the state it left (restart). Also the time of the first TLS handshake to the default device (on a first
// start that includes making its key). Every device has all five listeners where the descriptor limit allows
// (~6 each); where it does not (10,000 devices under a hard limit of 20,000), the row's devices serve WS-Man HTTP
// alone ("http") and get a 1-device "http" reference of their own. The 1-device row of each kind and port set is
// the reference; the per-extra-device columns are (row - reference) / (devices - 1). Targets: <= 1 MB and <= 5 ms per extra device. Also the p50 of WS-Man Gets on
// the default device while the others idle (what sharing one loop costs a busy device). And what the idle process
// costs over 10 s once ready (CPU time from /proc/PID/stat, context switches of all its threads from
// /proc/PID/task/*/status), from the moment it stops using CPU: an idle device must not wake the loop, so these
// stay flat from 1 to 10,000 devices. The one periodic thing a device does is its simulated host OS's watchdog
// daemon pinging dev/watchdog0 every 60 s (half mei_wdt's 120 s), a host's activity; a window that holds such
// pings shows them.
// Prints a table.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <algorithm>
#include <regex>
#include <sstream>
#include <iterator>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include "tests/support/wsman_digest_client.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path makeTempDir(const std::string& tag) {
  std::string pattern = (fs::temp_directory_path() / ("mesim-" + tag + "-XXXXXX")).string();
  char* made = ::mkdtemp(pattern.data());
  return made ? fs::path(made) : fs::path();
}

long rssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// CPU time (user + system, clock ticks) of the whole process and context switches of all its threads.
struct ProcessActivity {
  long long cpuTicks = -1;
  long long switches = 0;
};

ProcessActivity activityOf(pid_t pid) {
  ProcessActivity a;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces; the fields follow its ')'
  if (close == std::string::npos) return a;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state; utime is 14, stime 15 (proc(5))
    if (i == 14) utime = std::atoll(field.c_str());
    if (i == 15) {
      stime = std::atoll(field.c_str());
      break;
    }
  }
  a.cpuTicks = utime + stime;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        a.switches += std::atoll(line.c_str() + line.find(':') + 1);
  }
  return a;
}

struct Run {
  double readyMs = -1;
  double idleCpuMs = -1;     // CPU time the process used over kIdleWindow once ready, nothing asked of it
  double idleSwitches = -1;  // its threads' context switches over that window: each a wake-up
  double rssMiB = -1;
  double getP50us = -1;  // WS-Man Get on the default device while the others idle
  double firstTlsMs = -1;  // the first TLS handshake to the default device
};

// One TLS handshake to 127.0.0.1:port; its time in ms, or -1.
double tlsHandshakeMs(std::uint16_t port) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> stream(io, ctx);
  auto start = Clock::now();
  boost::system::error_code ec;
  stream.next_layer().connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (!ec) stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// p50 of `n` Digest-authenticated WS-Man Gets over one keep-alive connection.
double getP50us(std::uint16_t port, int n = 400) {
  mesim::test::WsmanDigestClient client(port);
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto start = Clock::now();
    auto answer = client.post(mesim::test::wsmanGetGeneralSettings());
    if (answer.status != 200) return -1;
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// Starts mesim with `devices` devices on `dir`, waits for the process's ready line, lets it idle for a second,
// reads its RSS and stops it.
constexpr std::chrono::seconds kIdleWindow{10};

// Which listeners every device has: all five (WS-Man HTTP and TLS, redirection and its TLS, RFB: six descriptors
// with the connections' slack), or WS-Man HTTP alone where the descriptor limit does not allow five per device.
enum class Ports { All, HttpOnly };
constexpr rlim_t kDescriptorsPerDeviceAllPorts = 6;

Run runFleet(const fs::path& dir, unsigned devices, Ports ports) {
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return {};
  std::vector<std::string> args{std::string(MESIM_BUILD_DIR) + "/bin/mesim", "--state-dir", (dir / "state").string(),
                                "--runtime-dir", (dir / "run").string(), "--control-port", "0", "--http-port", "0",
                                "--fuse", "off", "--host-os-boot-time", "1s", "--fleet", std::to_string(devices - 1)};
  if (ports == Ports::All) args.insert(args.end(), {"--https-port", "0"});
  else args.insert(args.end(), {"--https-port", "-1", "--redirection-port", "-1", "--redirection-tls-port", "-1", "--rfb-port", "-1"});
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipeFds[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  Run run;
  std::string pending;       // the unfinished last line
  std::string tail;          // the last lines, for a start that fails
  std::string defaultReady;  // the default device's ready line: its ports (10,000 devices log megabytes first)
  char buf[65536];
  ssize_t n;
  // The process's own ready line (the devices' lines say "device ready").
  const std::string marker = "mesim: ready in ";
  while (run.readyMs < 0 && (n = ::read(pipeFds[0], buf, sizeof buf)) > 0) {
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t from = 0;
    for (std::size_t end; (end = pending.find('\n', from)) != std::string::npos; from = end + 1) {
      const std::string_view line(pending.data() + from, end - from);
      if (defaultReady.empty() && line.find("[default] mesim: device ready") != std::string_view::npos)
        defaultReady = line;
      if (line.find(marker) != std::string_view::npos) {
        run.readyMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (defaultReady.empty()) defaultReady = line;  // a lone device's ports are in the process's line
      }
    }
    tail.append(pending, 0, from);
    if (tail.size() > 8192) tail.erase(0, tail.size() - 4096);
    pending.erase(0, from);
  }
  const std::string& log = defaultReady;
  if (run.readyMs < 0) {
    std::fprintf(stderr, "mesim did not get ready:\n%s%s\n", tail.c_str(), pending.c_str());
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    ::close(pipeFds[0]);
    return run;
  }
  // Drain the log meanwhile so the daemon never blocks on a full pipe.
  std::thread drain([fd = pipeFds[0]] {
    char sink[4096];
    while (::read(fd, sink, sizeof sink) > 0) {
    }
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::smatch port;
  static const std::regex defaultTlsPort(R"(https://127\.0\.0\.1:(\d+)/wsman)");
  if (std::regex_search(log, port, defaultTlsPort))
    run.firstTlsMs = tlsHandshakeMs(static_cast<std::uint16_t>(std::stoi(port[1])));
  static const std::regex defaultPort(R"(WS-Man http://127\.0\.0\.1:(\d+)/wsman)");
  if (std::regex_search(log, port, defaultPort)) run.getP50us = getP50us(static_cast<std::uint16_t>(std::stoi(port[1])));
  long kib = rssKiB(pid);
  if (kib >= 0) run.rssMiB = static_cast<double>(kib) / 1024.0;
  // Idle: nothing talks to it (the Gets and the handshake above are over); whatever it does now is its own timers.
  // First the devices' simulated host OSes boot (--host-os-boot-time after start, then their watchdog daemons open
  // dev/watchdog0: work, not idling); the window starts once a second passes without CPU time (at most 60 s).
  for (int settle = 0; settle < 60; ++settle) {
    const auto a = activityOf(pid);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (activityOf(pid).cpuTicks == a.cpuTicks) break;
  }
  const auto before = activityOf(pid);
  std::this_thread::sleep_for(kIdleWindow);
  const auto after = activityOf(pid);
  if (before.cpuTicks >= 0 && after.cpuTicks >= 0) {
    run.idleCpuMs = static_cast<double>(after.cpuTicks - before.cpuTicks) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
    run.idleSwitches = static_cast<double>(after.switches - before.switches);
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  drain.join();
  ::close(pipeFds[0]);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> sizes{1, 100, 1000, 10000};
  if (argc > 1) {
    sizes = {1};
    for (int i = 1; i < argc; ++i) sizes.push_back(static_cast<unsigned>(std::atoi(argv[i])));
  }
  // Each device holds a few sockets; the daemon raises its own soft limit, this only makes sure the hard one allows.
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  std::printf("bench_fleet: mesim with N devices in one process (FUSE off); fd limit %llu\n",
              static_cast<unsigned long long>(limit.rlim_max));
  std::printf("%-8s %-8s %-6s %12s %16s %10s %16s %14s %8s %14s %14s %12s\n", "start", "devices", "ports",
              "ready (ms)", "ms/extra device", "RSS (MiB)", "MiB/extra device", "Get p50 (us)", "ratio",
              "1st TLS (ms)", "idle CPU (ms)", "idle wakes");
  // A reference per port set, in each pass: a row is compared with the 1-device process that has the same listeners.
  struct Row {
    unsigned devices;
    Ports ports;
  };
  std::vector<Row> rows;
  bool httpOnlyReference = false;
  for (unsigned size : sizes) {
    const Ports ports = 1024 + kDescriptorsPerDeviceAllPorts * size <= limit.rlim_max ? Ports::All : Ports::HttpOnly;
    if (ports == Ports::HttpOnly && !httpOnlyReference) {
      rows.push_back({1, Ports::HttpOnly});
      httpOnlyReference = true;
    }
    rows.push_back({size, ports});
  }
  std::vector<fs::path> dirs;
  for (std::size_t i = 0; i < rows.size(); ++i) dirs.push_back(makeTempDir("fleet"));
  for (int pass = 0; pass < 2; ++pass) {
    const char* kind = pass == 0 ? "first" : "restart";
    Run reference[2];
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto [size, ports] = rows[i];
      const char* portsName = ports == Ports::All ? "all 5" : "http";
      Run run = runFleet(dirs[i], size, ports);
      Run& ref = reference[ports == Ports::All ? 0 : 1];
      if (size == 1) {
        ref = run;
        std::printf("%-8s %-8u %-6s %12.1f %16s %10.1f %16s %14.1f %8s %14.1f %14.1f %12.0f\n", kind, size,
                    portsName, run.readyMs, "(reference)", run.rssMiB, "(reference)", run.getP50us, "1.00",
                    run.firstTlsMs, run.idleCpuMs, run.idleSwitches);
      } else {
        double extra = size - 1.0;
        std::printf("%-8s %-8u %-6s %12.1f %16.2f %10.1f %16.3f %14.1f %8.2f %14.1f %14.1f %12.0f\n", kind, size,
                    portsName, run.readyMs, (run.readyMs - ref.readyMs) / extra, run.rssMiB,
                    (run.rssMiB - ref.rssMiB) / extra, run.getP50us, run.getP50us / ref.getP50us, run.firstTlsMs,
                    run.idleCpuMs, run.idleSwitches);
      }
      std::fflush(stdout);
    }
  }
  std::printf("targets: <= 5 ms and <= 1 MiB per extra device; idle CPU and wakes over %lld s, flat in the device count\n",
              static_cast<long long>(kIdleWindow.count()));
  for (auto& d : dirs) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
  return 0;
}
