// Starts the real mesim executable for integration tests, with its own state and runtime dirs,
// and waits for its "ready" log line.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace mesim::test {

inline std::filesystem::path buildDir() { return MESIM_BUILD_DIR; }
inline std::filesystem::path mesimBinary() { return buildDir() / "bin" / "mesim"; }

namespace detail {
// Removes the directories makeTempDir made when the test process exits: a suite run used to leave thousands
// of state dirs in /tmp. Only in the process that made them (a forked child exiting must not pull them from
// under its parent). MESIM_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
class TempDirSweeper {
 public:
  ~TempDirSweeper() {
    if (::getpid() != owner_ || std::getenv("MESIM_KEEP_TEST_DIRS")) return;
    for (const auto& dir : dirs_) {
      // A daemon killed mid-test can leave its FUSE mount; detach it so the tree can go.
      std::error_code ignored;
      bool mountPoint = std::filesystem::exists(dir / "fs", ignored) || ignored;  // ENOTCONN: a dead mount
      std::string unmount = "fusermount3 -u -z '" + (dir / "fs").string() + "' 2>/dev/null";
      if (mountPoint && std::system(unmount.c_str())) {
      }
      std::filesystem::remove_all(dir, ignored);
    }
  }
  void add(std::filesystem::path dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(std::move(dir));
  }

 private:
  const pid_t owner_ = ::getpid();
  std::mutex mutex_;
  std::vector<std::filesystem::path> dirs_;
};

inline TempDirSweeper& tempDirSweeper() {
  static TempDirSweeper sweeper;
  return sweeper;
}
}  // namespace detail

// A fresh directory under the temp dir, removed when the test process exits.
inline std::filesystem::path makeTempDir(const std::string& tag) {
  std::string pattern = (std::filesystem::temp_directory_path() / ("mesim-" + tag + "-XXXXXX")).string();
  char* made = ::mkdtemp(pattern.data());
  if (!made) return {};
  detail::tempDirSweeper().add(made);
  return made;
}

// A blocking TCP socket connected to 127.0.0.1:port, or -1.
inline int connectLoopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A loopback port nobody listened on a moment ago (bound and let go; a program that takes ports from its
// config gets one). The race with other programs is harmless in a test: the bind fails and the test says so.
inline std::uint16_t freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// VmRSS of a process in KiB, or -1.
inline long rssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// A minimal HTTP/1.1 GET/POST to 127.0.0.1:port; returns "STATUS BODY" or "" on failure.
inline std::string httpRequest(std::uint16_t port, const std::string& method, const std::string& target) {
  int fd = connectLoopback(port);
  if (fd < 0) return "";
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  if (::write(fd, request.data(), request.size()) < 0) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  auto sp = response.find(' ');
  auto bodyAt = response.find("\r\n\r\n");
  if (sp == std::string::npos || bodyAt == std::string::npos) return "";
  return response.substr(sp + 1, 3) + " " + response.substr(bodyAt + 4);
}

class DaemonProcess {
 public:
  explicit DaemonProcess(std::filesystem::path stateDir = {}, std::filesystem::path runtimeDir = {})
      : stateDir_(stateDir.empty() ? makeTempDir("state") : stateDir),
        runtimeDir_(runtimeDir.empty() ? makeTempDir("run") : runtimeDir) {}
  ~DaemonProcess() {
    kill(SIGKILL);
    // A killed daemon leaves its FUSE mount behind; detach it so the directory can go.
    std::string unmount = "fusermount3 -u -z '" + (runtimeDir_ / "fs").string() + "' 2>/dev/null";
    if (std::system(unmount.c_str())) {
    }
  }

  // Starts mesim with the dirs and `extra` flags; true once "ready" was logged.
  bool start(std::vector<std::string> extra = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10),
             std::vector<std::string> env = {}) {
    std::vector<std::string> args{mesimBinary().string(), "--state-dir", stateDir_.string(), "--runtime-dir",
                                  runtimeDir_.string(), "--control-port", "0", "--http-port", "0", "--https-port", "0",
                                  "--redirection-port", "0", "--redirection-tls-port", "0", "--rfb-port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) return false;
    log_.clear();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(pipeFds[1], 2);
      for (auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipeFds[1]);
    logFd_ = pipeFds[0];
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(logFd_, buf, sizeof buf)) > 0) {
        std::lock_guard lock(mutex_);
        log_.append(buf, static_cast<std::size_t>(n));
      }
    });
    auto deadline = std::chrono::steady_clock::now() + timeout;
    static const std::regex readyLine(R"(ready in \d+ ms: .*control http://[0-9.]+:(\d+))");
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        std::smatch m;
        if (std::regex_search(log_, m, readyLine)) {
          controlPort_ = static_cast<std::uint16_t>(std::stoi(m[1]));
          static const std::regex httpPort(R"(WS-Man http://[0-9.]+:(\d+)/wsman)"), httpsPort(R"(https://[0-9.]+:(\d+)/wsman)");
          std::smatch p;
          if (std::regex_search(log_, p, httpPort)) httpPort_ = static_cast<std::uint16_t>(std::stoi(p[1]));
          if (std::regex_search(log_, p, httpsPort)) httpsPort_ = static_cast<std::uint16_t>(std::stoi(p[1]));
          static const std::regex redirectionPort(R"(redirection tcp://[0-9.]+:(\d+))"),
              redirectionTlsPort(R"(redirection-tls tcp://[0-9.]+:(\d+))");
          if (std::regex_search(log_, p, redirectionPort)) redirectionPort_ = static_cast<std::uint16_t>(std::stoi(p[1]));
          static const std::regex rfbPort(R"(rfb tcp://[0-9.]+:(\d+))");
          if (std::regex_search(log_, p, rfbPort)) rfbPort_ = static_cast<std::uint16_t>(std::stoi(p[1]));
          if (std::regex_search(log_, p, redirectionTlsPort))
            redirectionTlsPort_ = static_cast<std::uint16_t>(std::stoi(p[1]));
          return true;
        }
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exitStatus_ = status;
        joinReader();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  // Sends a signal and waits for the exit; returns the wait status.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exitStatus_;
    ::kill(pid_, signal);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exitStatus_ = status;
        joinReader();
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    joinReader();
    return -1;
  }
  void kill(int signal) {
    if (pid_ > 0) stop(signal, std::chrono::seconds(5));
  }

  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }
  // The log is read by a thread: wait for a line rather than race it.
  bool waitForLog(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  std::uint16_t controlPort() const { return controlPort_; }
  std::uint16_t httpPort() const { return httpPort_; }    // WS-Man on plain HTTP, 0 if off
  std::uint16_t httpsPort() const { return httpsPort_; }  // WS-Man on TLS, 0 if off
  std::uint16_t redirectionPort() const { return redirectionPort_; }        // SOL on TCP, 0 if off
  std::uint16_t redirectionTlsPort() const { return redirectionTlsPort_; }  // SOL on TLS, 0 if off
  std::uint16_t rfbPort() const { return rfbPort_; }  // KVM's standard RFB (5900), 0 if off
  pid_t pid() const { return pid_; }
  const std::filesystem::path& stateDir() const { return stateDir_; }
  const std::filesystem::path& runtimeDir() const { return runtimeDir_; }
  std::filesystem::path meiDevice() const { return runtimeDir_ / "dev" / "mei0"; }
  std::string get(const std::string& target) { return httpRequest(controlPort_, "GET", target); }
  std::string post(const std::string& target) { return httpRequest(controlPort_, "POST", target); }
  // The value of the first /metrics sample of `family` whose labels contain `labels` (e.g. `kind="kvm"`); -1 if none.
  double metricSample(const std::string& family, const std::string& labels) {
    std::istringstream lines(get("/metrics"));
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(family + "{") || line.find(labels) == std::string::npos) continue;
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
    return -1;
  }

 private:
  void joinReader() {
    if (reader_.joinable()) reader_.join();
    if (logFd_ >= 0) ::close(logFd_);
    logFd_ = -1;
  }

  std::filesystem::path stateDir_;
  std::filesystem::path runtimeDir_;
  pid_t pid_ = -1;
  int exitStatus_ = -1;
  int logFd_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::string log_;
  std::uint16_t controlPort_ = 0;
  std::uint16_t httpPort_ = 0;
  std::uint16_t httpsPort_ = 0;
  std::uint16_t redirectionPort_ = 0;
  std::uint16_t redirectionTlsPort_ = 0;
  std::uint16_t rfbPort_ = 0;
};

}  // namespace mesim::test
