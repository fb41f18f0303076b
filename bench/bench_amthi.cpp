// AMTHI GetProvisioningState round trips: in-process (host model API), through the FUSE device
// and through the LD_PRELOAD library, next to a reference measured in the same run (a Unix
// socketpair ping-pong between two threads: what the machine does for one message each way).
// Run by hand: build/bin/bench_amthi [round-trips]
#include <fcntl.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "firmware/clients/amthi_client.h"
#include "firmware/platform/platform_model.h"
#include "hostif/client/mei_file.h"
#include "tests/support/daemon_process.h"
#include "tests/support/inprocess_platform.h"

namespace {

using Clock = std::chrono::steady_clock;
const std::uint8_t kRequest[12] = {1, 1, 0, 0, 0x11, 0, 0, 4, 0, 0, 0, 0};  // GetProvisioningState
const std::uint8_t kAmthiGuid[16] = {0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
                                     0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c};

struct Result {
  std::string path;
  double perSecond = 0;
  double p50us = 0;
  double p99us = 0;
  std::string note;
};

Result summarize(std::string path, std::vector<double>& latenciesUs, double seconds) {
  Result r;
  r.path = std::move(path);
  if (latenciesUs.empty() || seconds <= 0) return r;
  std::sort(latenciesUs.begin(), latenciesUs.end());
  r.perSecond = static_cast<double>(latenciesUs.size()) / seconds;
  r.p50us = latenciesUs[latenciesUs.size() / 2];
  r.p99us = latenciesUs[latenciesUs.size() * 99 / 100];
  return r;
}

template <typename RoundTrip>
Result measure(const std::string& path, int count, RoundTrip&& roundTrip) {
  for (int i = 0; i < std::min(count / 10, 1000); ++i) roundTrip();  // warm up
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(count));
  auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    if (!roundTrip()) {
      Result failed;
      failed.path = path;
      failed.note = "FAILED at round trip " + std::to_string(i);
      return failed;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return summarize(path, latencies, std::chrono::duration<double>(Clock::now() - start).count());
}

Result referenceSocketPair(int count) {
  int fds[2];
  socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds);
  std::thread echo([fd = fds[1]] {
    std::uint8_t buf[64];
    ssize_t n;
    std::uint8_t reply[20] = {};
    while ((n = read(fd, buf, sizeof buf)) > 0)
      if (write(fd, reply, sizeof reply) != sizeof reply) break;
  });
  std::uint8_t buf[64];
  auto r = measure("reference: socketpair ping-pong", count, [&] {
    return write(fds[0], kRequest, sizeof kRequest) == sizeof kRequest && read(fds[0], buf, sizeof buf) == 20;
  });
  close(fds[0]);
  echo.join();
  close(fds[1]);
  return r;
}

Result inProcess(int count) {
  auto stateDir = mesim::test::makeTempDir("bench-state");
  auto opened = mesim::platform::PlatformModel::open(stateDir, {});
  if (!opened) return {"in-process", 0, 0, 0, "platform: " + opened.error().message};
  auto platform = std::move(*opened);
  mesim::test::InProcessMachine machine;
  machine.engine.addClient(mesim::clients::makeAmthiClient(*platform));
  if (!machine.start()) return {"in-process", 0, 0, 0, "host did not enable"};
  mesim::client::MeiFile file(machine.io, *machine.host);
  mesim::hbm::Guid guid;
  std::copy(std::begin(kAmthiGuid), std::end(kAmthiGuid), guid.bytes.begin());
  if (file.open() != 0 || file.connect(guid) != 0) return {"in-process", 0, 0, 0, "connect failed"};
  std::vector<std::uint8_t> buf(4096);
  auto r = measure("in-process (HostDevice API)", count, [&] {
    return file.write(mesim::hbm::ByteView(kRequest, sizeof kRequest)) == 12 && file.read(buf) == 20;
  });
  file.close();
  machine.shutdown();
  std::filesystem::remove_all(stateDir);
  return r;
}

// The host model's asynchronous API driven on the event loop itself: each reply's callback sends the
// next request, so no thread hand-off is measured, only the host model, HBM and the AMTHI client.
Result inProcessOnLoop(int count) {
  auto stateDir = mesim::test::makeTempDir("bench-state");
  auto opened = mesim::platform::PlatformModel::open(stateDir, {});
  if (!opened) return {"in-process, on the loop", 0, 0, 0, "platform: " + opened.error().message};
  auto platform = std::move(*opened);
  mesim::test::InProcessMachine machine;
  machine.engine.addClient(mesim::clients::makeAmthiClient(*platform));
  if (!machine.start()) return {"in-process, on the loop", 0, 0, 0, "host did not enable"};
  mesim::client::MeiFile file(machine.io, *machine.host);
  mesim::hbm::Guid guid;
  std::copy(std::begin(kAmthiGuid), std::end(kAmthiGuid), guid.bytes.begin());
  if (file.open() != 0 || file.connect(guid) != 0) return {"in-process, on the loop", 0, 0, 0, "connect failed"};
  // MeiFile's file id is private; open a second file on the loop for the chained run.
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(count));
  auto done = std::make_shared<std::promise<double>>();
  auto future = done->get_future();
  machine.run([&] {
    auto& host = *machine.host;
    mesim::host::FileId id = 0;
    host.open(id);
    host.connect(id, guid, [&, id](int err, const mesim::hbm::ClientProperties&) {
      if (err) return done->set_value(-1);
      auto start = std::make_shared<Clock::time_point>(Clock::now());
      auto t0 = std::make_shared<Clock::time_point>();
      auto step = std::make_shared<std::function<void(int)>>();
      *step = [&, id, start, t0, step](int remaining) {
        if (remaining == 0) {
          done->set_value(std::chrono::duration<double>(Clock::now() - *start).count());
          host.close(id, [] {});
          *step = nullptr;  // break the self-reference
          return;
        }
        *t0 = Clock::now();
        host.write(id, mesim::hbm::Bytes(std::begin(kRequest), std::end(kRequest)), false, [](ssize_t) {});
        host.read(id, 4096, false, [&, t0, step, remaining](int readErr, mesim::hbm::Bytes data) {
          if (readErr || data.size() != 20) return done->set_value(-1);
          latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - *t0).count());
          (*step)(remaining - 1);
        });
      };
      (*step)(count);
    });
  });
  double seconds = future.get();
  file.close();
  machine.shutdown();
  std::filesystem::remove_all(stateDir);
  if (seconds < 0) return {"in-process, on the loop", 0, 0, 0, "round trip failed"};
  return summarize("in-process, on the loop", latencies, seconds);
}

// The C-level loop both the FUSE and preload measurements use: what an unmodified program does.
Result deviceLoop(const std::string& label, const char* path, int count) {
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return {label, 0, 0, 0, std::string("open: ") + strerror(errno)};
  std::uint8_t data[16];
  std::memcpy(data, kAmthiGuid, 16);
  if (ioctl(fd, IOCTL_MEI_CONNECT_CLIENT, data) != 0) {
    close(fd);
    return {label, 0, 0, 0, std::string("connect: ") + strerror(errno)};
  }
  std::uint8_t buf[4096];
  auto r = measure(label, count, [&] {
    return write(fd, kRequest, sizeof kRequest) == 12 && read(fd, buf, sizeof buf) == 20;
  });
  close(fd);
  return r;
}

Result viaPreload(const std::string& self, const mesim::test::DaemonProcess& daemon, int count) {
  int out[2];
  if (pipe(out) != 0) return {"preload", 0, 0, 0, "pipe failed"};
  pid_t child = fork();
  if (child == 0) {
    dup2(out[1], 1);
    std::string preload = "LD_PRELOAD=" + (mesim::test::buildDir() / "lib" / "libmesim-preload.so").string();
    std::string runtime = "MESIM_RUNTIME_DIR=" + daemon.runtimeDir().string();
    std::string n = std::to_string(count);
    char* envp[] = {preload.data(), runtime.data(), nullptr};
    const char* argv[] = {self.c_str(), "--preload-child", n.c_str(), nullptr};
    execve(self.c_str(), const_cast<char**>(argv), envp);
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  waitpid(child, nullptr, 0);
  Result r;
  r.path = "LD_PRELOAD libmesim-preload.so";
  std::istringstream parse(text);
  if (!(parse >> r.perSecond >> r.p50us >> r.p99us)) r.note = "child failed: " + text;
  return r;
}

void printTable(const std::vector<Result>& results, long idleRssKb, long afterRssKb) {
  const double reference = results.front().perSecond;
  std::printf("\nAMTHI GetProvisioningState round trips (12-byte request, 20-byte reply)\n\n");
  std::printf("| %-48s | %12s | %9s | %9s | %12s | %-16s |\n", "path", "round trips/s", "p50 us", "p99 us",
              "vs reference", "target");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(50, '-').c_str(), std::string(15, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str(), std::string(14, '-').c_str(),
              std::string(18, '-').c_str());
  for (auto& r : results) {
    std::string target = r.path.rfind("in-process", 0) == 0 ? ">= 20000/s" : r.path.rfind("FUSE", 0) == 0 ? ">= 5000/s" : "";
    if (!target.empty()) {
      double need = r.path.rfind("in-process", 0) == 0 ? 20000 : 5000;
      target += r.perSecond >= need ? " met" : " MISSED";
    }
    if (!r.note.empty()) {
      std::printf("| %-48s | %s\n", r.path.c_str(), r.note.c_str());
      continue;
    }
    std::printf("| %-48s | %13.0f | %9.1f | %9.1f | %11.2fx | %-16s |\n", r.path.c_str(), r.perSecond, r.p50us,
                r.p99us, reference > 0 ? r.perSecond / reference : 0.0, target.c_str());
  }
  std::printf("\nDaemon RSS: %ld KiB idle after start, %ld KiB after the runs (target: idle < 20 MB %s)\n", idleRssKb,
              afterRssKb, idleRssKb > 0 && idleRssKb < 20 * 1024 ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--preload-child") {
    auto r = deviceLoop("preload", "/dev/mei0", std::stoi(argv[2]));
    if (!r.note.empty()) {
      std::printf("%s\n", r.note.c_str());
      return 1;
    }
    std::printf("%f %f %f\n", r.perSecond, r.p50us, r.p99us);
    return 0;
  }
  int count = argc >= 2 ? std::stoi(argv[1]) : 20000;
  std::vector<Result> results;
  results.push_back(referenceSocketPair(count));
  results.push_back(inProcessOnLoop(count));
  results.push_back(inProcess(count));

  mesim::test::DaemonProcess daemon;
  long idle = -1, after = -1;
  if (!daemon.start()) {
    results.push_back({"FUSE dev/mei0", 0, 0, 0, "daemon did not start: " + daemon.log()});
  } else {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    idle = mesim::test::rssKb(daemon.pid());
    if (std::filesystem::exists(daemon.meiDevice()))
      results.push_back(deviceLoop("FUSE dev/mei0", daemon.meiDevice().c_str(), count));
    else
      results.push_back({"FUSE dev/mei0", 0, 0, 0, "no FUSE on this machine"});
    results.push_back(viaPreload(argv[0], daemon, count));
    after = mesim::test::rssKb(daemon.pid());
    daemon.stop();
  }
  // The same two paths with the loop sleeping as soon as it is idle: what --loop-spin-us buys.
  mesim::test::DaemonProcess sleeper;
  if (sleeper.start({"--loop-spin-us", "0"})) {
    if (std::filesystem::exists(sleeper.meiDevice()))
      results.push_back(deviceLoop("FUSE dev/mei0, --loop-spin-us 0", sleeper.meiDevice().c_str(), count));
    auto preload = viaPreload(argv[0], sleeper, count);
    preload.path += ", --loop-spin-us 0";
    results.push_back(preload);
    sleeper.stop();
  }
  printTable(results, idle, after);
  return 0;
}
