// MeshCentral as a real MPS for CIRA tests (spec/cira.md): a headless MeshCentral from tests/clients/node_modules
// on loopback with its own temp data folder, an AMT-only device group and what a device needs to dial it (the
// 16-character CIRA user, the MPS password, the MPS certificate's root and CN), and the views a test checks:
// meshctrl's device list, the server console (mps, mpsstats, amtmanager), AMT power actions, a restart.
// Every wait is bounded; the destructor kills the process groups it started.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim::test {

namespace mps_detail {

inline std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace mps_detail

// A program started in a session (and process group) of its own, its stdout and stderr appended to a file.
// Stopped by its PID (SIGTERM, then SIGKILL to the whole group at the timeout); the destructor kills the group.
class BackgroundProgram {
 public:
  BackgroundProgram() = default;
  BackgroundProgram(const BackgroundProgram&) = delete;
  BackgroundProgram& operator=(const BackgroundProgram&) = delete;
  ~BackgroundProgram() { kill(); }

  bool start(const std::vector<std::string>& argv, const std::filesystem::path& output,
             const std::vector<std::string>& env = {}) {
    if (running() || argv.empty()) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);  // its own group: a stop reaches every process it made
    std::vector<std::string> envStrings = childEnvironment(env, {});  // all of the test's environment
    std::vector<char*> envp = nullTerminated(envStrings);
    std::vector<std::string> argStrings = argv;
    std::vector<char*> args = nullTerminated(argStrings);
    const int rc = ::posix_spawnp(&pid_, args[0], &actions, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exitStatus_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM to the PID, a wait, then SIGKILL to the group; returns the wait status (-1 if it had to be killed).
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (pid_ <= 0) return exitStatus_;
    const pid_t group = pid_;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running()) {
        // Children follow their parent out (MeshCentral's exits when its stdin closes); one that lingers is killed.
        while (::kill(-group, 0) == 0 && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ::kill(-group, SIGKILL);
        return exitStatus_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    return -1;
  }

  void kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    exitStatus_ = status;
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exitStatus_ = -1;
};

// Runs a program to its end with its stdout and stderr in `output` (a file, not a pipe: meshctrl exits right
// after printing, which cuts what a pipe still holds, spec/cira.md §4). Returns the exit code, -1 on a timeout.
inline int runToFile(const std::vector<std::string>& argv, const std::filesystem::path& output,
                     std::chrono::milliseconds timeout) {
  std::filesystem::remove(output);
  BackgroundProgram program;
  if (!program.start(argv, output)) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (program.running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      program.kill();
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int status = program.stop();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// MeshCentral's node id of an AMT-only group's device with this UUID (spec/cira.md §2.3): base64 of the UUID's
// 16 bytes three times, `+` and `/` as `@` and `$`.
inline std::string meshCentralNodeId(const std::string& uuid) {
  std::vector<unsigned char> bytes;
  for (std::size_t i = 0; i + 1 < uuid.size();) {
    if (uuid[i] == '-') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<unsigned char>(std::stoi(uuid.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  std::vector<unsigned char> three;
  for (int k = 0; k < 3; ++k) three.insert(three.end(), bytes.begin(), bytes.end());
  std::string b64(4 * ((three.size() + 2) / 3) + 1, '\0');
  b64.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), three.data(),
                                                      static_cast<int>(three.size()))));
  for (char& c : b64) c = c == '+' ? '@' : c == '/' ? '$' : c;
  return "node//" + b64;
}

// The CIRA user name of a group (spec/cira.md §2.3): the first 16 characters of its id, `@` and `$` as `X`.
inline std::string ciraUserOf(const std::string& groupId) {
  std::string id = groupId.rfind("mesh//", 0) == 0 ? groupId.substr(6) : groupId;
  id = id.substr(0, 16);
  for (char& c : id) c = (c == '@' || c == '$') ? 'X' : c;
  return id;
}

struct MpsGroup {
  std::string id;        // "mesh//<64 characters>"
  std::string ciraUser;  // what a device of the group sends in USERAUTH
};

// One row of `meshctrl ListDevices --json`.
struct MpsDevice {
  std::string id;    // "node//..."
  std::string name;
  std::string host;
  std::string meshId;
  int conn = 0;      // bits: 1 agent, 2 CIRA, 4 AMT on the LAN, 8 relay
  int pwr = 0;       // 7 present, 1 S0 (on), 6 off, ...
  std::string amtVersion;  // intelamt.ver: set once the MPS ran its WS-Man sequence through the tunnel
  boost::json::object raw;
  bool ciraConnected() const { return (conn & 2) != 0; }
};

struct MeshCentralMpsOptions {
  std::string certName = "mps.mesim.test";  // the MPS certificate's CN; needs a dot (spec/cira.md §1)
  std::string mpsPassword = "CiraP@ss1";
  std::string amtUser = "admin";            // amtManager.adminAccounts: the device's Digest login
  std::string amtPassword = "P@ssw0rd";
  std::string siteAdmin = "mpsadmin";
  std::string siteAdminPassword = "Adm1n!pass";
  std::string debug = "mps,mpscmd,amt";     // MeshCentral debug channels; "" keeps a big fleet's log quiet
  std::chrono::seconds startTimeout{60};
};

class MeshCentralMps {
 public:
  explicit MeshCentralMps(std::filesystem::path clientsDir, MeshCentralMpsOptions options = {})
      : clientsDir_(std::move(clientsDir)), options_(std::move(options)) {}
  MeshCentralMps(const MeshCentralMps&) = delete;
  MeshCentralMps& operator=(const MeshCentralMps&) = delete;
  ~MeshCentralMps() {
    server_.kill();
    if (!work_.empty() && std::getenv("MESIM_KEEP_MPS") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(work_, ec);
    }
  }

  // Why a test cannot run MeshCentral here ("" when it can): for GTEST_SKIP.
  static std::string unavailableReason(const std::filesystem::path& clientsDir) {
    if (!std::filesystem::exists(clientsDir / "node_modules" / "meshcentral" / "meshcentral.js"))
      return "MeshCentral is not installed in " + (clientsDir / "node_modules").string() +
             " (scripts/test.sh installs it with `npm ci` in tests/clients)";
    if (std::system("command -v node >/dev/null 2>&1") != 0)
      return "node is not on PATH (Debian package nodejs; scripts/test.sh installs it)";
    return "";
  }

  // First call: makes the data folder, config.json and the site administrator, then starts; later calls start
  // the same data folder on the same ports. True once both the web and the MPS listeners are up.
  bool start() {
    if (work_.empty() && !prepare()) return false;
    const auto from = std::filesystem::exists(logPath()) ? std::filesystem::file_size(logPath()) : 0;
    if (!server_.start({"node", meshcentralJs(), "--datapath", dataDir().string()}, logPath())) {
      error_ = "cannot spawn node";
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + options_.startTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = log().substr(std::min<std::size_t>(from, log().size()));
      if (text.find("HTTPS server running") != std::string::npos &&
          text.find("Intel(R) AMT server running") != std::string::npos)
        return loadCertificates();
      if (!server_.running()) {
        error_ = "MeshCentral exited while starting:\n" + text;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    error_ = "MeshCentral not ready within " + std::to_string(options_.startTimeout.count()) + " s";
    server_.kill();
    return false;
  }

  // Stops it by its parent PID: the `--launch` child exits when its stdin closes (spec/cira.md §1).
  void stop() { server_.stop(std::chrono::seconds(15)); }
  bool restart() {
    stop();
    return start();
  }
  bool running() { return server_.running(); }

  // An AMT-only device group (meshctrl AddDeviceGroup --amtonly).
  std::optional<MpsGroup> createAmtGroup(const std::string& name) {
    const auto out = work_ / "meshctrl-addgroup.txt";
    if (meshctrl({"AddDeviceGroup", "--name", name, "--amtonly"}, out) != 0) return std::nullopt;
    const std::string text = mps_detail::readText(out);
    const auto at = text.find("ok mesh//");
    if (at == std::string::npos) {
      error_ = "AddDeviceGroup: " + text;
      return std::nullopt;
    }
    auto end = text.find_first_of("\r\n ", at + 3);
    MpsGroup group;
    group.id = text.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
    group.ciraUser = ciraUserOf(group.id);
    return group;
  }

  // Every device MeshCentral knows (`meshctrl ListDevices --json`, redirected to a file); nullopt on an error.
  std::optional<std::vector<MpsDevice>> listDevices() {
    const auto out = work_ / "meshctrl-listdevices.json";
    if (meshctrl({"ListDevices", "--json"}, out) != 0) return std::nullopt;
    boost::system::error_code ec;
    const auto text = mps_detail::readText(out);
    auto value = boost::json::parse(text, ec);
    if (ec || !value.is_array()) {
      error_ = "ListDevices: " + text.substr(0, 500);
      return std::nullopt;
    }
    std::vector<MpsDevice> devices;
    for (auto& v : value.as_array()) {
      if (!v.is_object()) continue;
      const auto& o = v.as_object();
      MpsDevice d;
      d.raw = o;
      auto str = [&](const boost::json::object& from, const char* key) {
        auto it = from.find(key);
        return it != from.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
      };
      auto num = [&](const char* key) {
        auto it = o.find(key);
        return it != o.end() && it->value().is_int64() ? static_cast<int>(it->value().as_int64()) : 0;
      };
      d.id = str(o, "_id");
      d.name = str(o, "name");
      d.host = str(o, "host");
      d.meshId = str(o, "meshid");
      d.conn = num("conn");
      d.pwr = num("pwr");
      if (auto it = o.find("intelamt"); it != o.end() && it->value().is_object())
        d.amtVersion = str(it->value().as_object(), "ver");
      devices.push_back(std::move(d));
    }
    return devices;
  }

  // Polls the device list until `done` holds (checked on each list), or `timeout`. Returns the last list.
  std::optional<std::vector<MpsDevice>> waitForDevices(const std::function<bool(const std::vector<MpsDevice>&)>& done,
                                                       std::chrono::milliseconds timeout,
                                                       std::chrono::milliseconds every = std::chrono::milliseconds(250)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<std::vector<MpsDevice>> last;
    for (;;) {
      last = listDevices();
      if (last && done(*last)) return last;
      if (std::chrono::steady_clock::now() + every >= deadline) return last;
      std::this_thread::sleep_for(every);
    }
  }

  // A server-console command over control.ashx (spec/cira.md §4): "mps", "mpsstats", "amtmanager". nullopt on an
  // error (error() says why).
  std::optional<std::string> console(const std::string& command) {
    const auto out = work_ / "console.txt";
    const int rc = runToFile({"node", (clientsDir_ / "meshcentral_console.js").string(), std::to_string(webPort_),
                              options_.siteAdmin, options_.siteAdminPassword, command},
                             out, std::chrono::seconds(20));
    const auto text = mps_detail::readText(out);
    if (rc != 0) {
      error_ = "console " + command + ": " + text;
      return std::nullopt;
    }
    return text;
  }

  // One counter of `mpsstats`, -1 if absent.
  long mpsStat(const std::string& name) {
    auto text = console("mpsstats");
    if (!text) return -1;
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind(name + ": ", 0) == 0) return std::stol(line.substr(name.size() + 2));
    return -1;
  }

  // An Intel AMT power action from MeshCentral (`meshctrl DevicePower`): "amton" (2), "amtoff" (8), "amtreset"
  // (10). MeshCentral's AMT manager sends it through the tunnel as RequestPowerStateChange.
  bool devicePower(const std::string& nodeId, const std::string& action) {
    const auto out = work_ / "meshctrl-power.txt";
    const int rc = meshctrl({"DevicePower", "--" + action, "--id", nodeId}, out);
    return rc == 0 && mps_detail::readText(out).find("ok") != std::string::npos;
  }

  // The exit code of `meshctrl ARGS...` as the site administrator, its output in `output`.
  int meshctrl(const std::vector<std::string>& args, const std::filesystem::path& output) {
    std::vector<std::string> argv{"node", (clientsDir_ / "node_modules" / "meshcentral" / "meshctrl.js").string(),
                                  "--url", "wss://127.0.0.1:" + std::to_string(webPort_), "--loginuser",
                                  options_.siteAdmin, "--loginpass", options_.siteAdminPassword};
    argv.insert(argv.end(), args.begin(), args.end());
    const int rc = runToFile(argv, output, std::chrono::seconds(30));
    if (rc != 0) error_ = "meshctrl " + (args.empty() ? "" : args[0]) + " exited " + std::to_string(rc) + ": " +
                          mps_detail::readText(output).substr(0, 500);
    return rc;
  }

  std::uint16_t mpsPort() const { return mpsPort_; }
  std::uint16_t webPort() const { return webPort_; }
  const std::string& mpsPassword() const { return options_.mpsPassword; }
  const MeshCentralMpsOptions& options() const { return options_; }
  // The MPS's TLS certificate (mpsserver-cert-public.crt) is issued by MeshCentral's root (root-cert-public.crt);
  // the MPS sends the leaf only, so a device trusts the root and checks the CN.
  std::filesystem::path rootCertificatePath() const { return dataDir() / "root-cert-public.crt"; }
  std::filesystem::path mpsCertificatePath() const { return dataDir() / "mpsserver-cert-public.crt"; }
  const std::string& rootCertificatePem() const { return rootPem_; }
  const std::string& mpsCertificatePem() const { return mpsPem_; }
  const std::string& mpsCertificateCn() const { return mpsCn_; }
  // Lower-case hex SHA-256 of the MPS certificate's DER: what a TLS peer sees.
  const std::string& mpsCertificateSha256() const { return mpsSha256_; }
  std::filesystem::path workDir() const { return work_; }
  std::filesystem::path dataDir() const { return work_ / "data"; }
  std::filesystem::path logPath() const { return work_ / "meshcentral.log"; }
  std::string log() const { return mps_detail::readText(logPath()); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return server_.pid(); }

 private:
  std::string meshcentralJs() const { return (clientsDir_ / "node_modules" / "meshcentral").string(); }

  bool prepare() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mesim-mps-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
      error_ = "mkdtemp failed";
      return false;
    }
    work_ = pattern;
    std::filesystem::create_directories(dataDir());
    webPort_ = freeLoopbackPort();
    mpsPort_ = freeLoopbackPort();
    if (webPort_ == 0 || mpsPort_ == 0 || webPort_ == mpsPort_) {
      error_ = "no free loopback port";
      return false;
    }
    namespace json = boost::json;
    // spec/cira.md §1: loopback only, a certificate name with a dot (else LAN mode and no MPS), no LAN scanners,
    // nothing that reaches the internet (self-update, time-stamping of agents), no redirect port.
    json::object settings{{"cert", options_.certName},      {"WANonly", true},        {"port", webPort_},
                          {"portBind", "127.0.0.1"},       {"redirPort", 0},         {"mpsPort", mpsPort_},
                          {"mpsPortBind", "127.0.0.1"},    {"mpsPass", options_.mpsPassword},
                          {"exactPorts", true},            {"selfUpdate", false},    {"autoBackup", false},
                          {"fastCert", true},              {"agentTimeStampServer", false},
                          {"amtScanner", false},           {"meshScanner", false},   {"webRTC", false}};
    if (!options_.debug.empty()) settings["debug"] = options_.debug;
    json::object domain{{"title", "mesim-cira-test"},
                        {"newAccounts", false},
                        {"amtManager", json::object{{"adminAccounts", json::array{json::object{
                                                                           {"user", options_.amtUser},
                                                                           {"pass", options_.amtPassword}}}}}}};
    json::object config{{"settings", settings}, {"domains", json::object{{"", domain}}}};
    std::ofstream(dataDir() / "config.json") << json::serialize(config);
    // Account commands write NeDB files directly, so they run before the server (spec/cira.md §1).
    const auto out = work_ / "account.txt";
    if (runToFile({"node", meshcentralJs(), "--datapath", dataDir().string(), "--createaccount", options_.siteAdmin,
                   "--pass", options_.siteAdminPassword, "--email", "mpsadmin@example.invalid"},
                  out, std::chrono::seconds(60)) != 0 ||
        runToFile({"node", meshcentralJs(), "--datapath", dataDir().string(), "--adminaccount", options_.siteAdmin},
                  out, std::chrono::seconds(60)) != 0) {
      error_ = "creating the site administrator failed: " + mps_detail::readText(out);
      return false;
    }
    return true;
  }

  bool loadCertificates() {
    rootPem_ = mps_detail::readText(rootCertificatePath());
    mpsPem_ = mps_detail::readText(mpsCertificatePath());
    BIO* bio = BIO_new_mem_buf(mpsPem_.data(), static_cast<int>(mpsPem_.size()));
    X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (!cert) {
      error_ = "no certificate in " + mpsCertificatePath().string();
      return false;
    }
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    mpsCn_ = cn;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(cert, EVP_sha256(), digest, &length);
    X509_free(cert);
    static const char* hex = "0123456789abcdef";
    mpsSha256_.clear();
    for (unsigned i = 0; i < length; ++i) {
      mpsSha256_ += hex[digest[i] >> 4];
      mpsSha256_ += hex[digest[i] & 15];
    }
    return true;
  }

  std::filesystem::path clientsDir_;
  MeshCentralMpsOptions options_;
  std::filesystem::path work_;
  std::uint16_t webPort_ = 0;
  std::uint16_t mpsPort_ = 0;
  BackgroundProgram server_;
  std::string rootPem_, mpsPem_, mpsCn_, mpsSha256_;
  std::string error_;
};

// tests/clients/cira_reference_client.js in the background: N devices admitted by the MPS, kept alive until
// stop(). The client prints one JSON line when all are admitted (or failed) and one when it stops.
class CiraReferenceFleet {
 public:
  struct Options {
    int count = 1;
    std::string uuidPrefix = "c1ea0000";  // device i: <prefix>-0000-4000-8000-<i as 12 hex digits>
    int staggerMs = 0;
    int timeoutS = 60;
  };
  CiraReferenceFleet(std::filesystem::path clientsDir, std::filesystem::path output)
      : clientsDir_(std::move(clientsDir)), output_(std::move(output)) {}

  bool start(const MeshCentralMps& mps, const std::string& ciraUser, const Options& options) {
    return start(mps, ciraUser, mps.mpsPassword(), options);
  }
  bool start(const MeshCentralMps& mps, const std::string& ciraUser, const std::string& password,
             const Options& options) {
    options_ = options;
    std::filesystem::remove(output_);
    return client_.start({"node", (clientsDir_ / "cira_reference_client.js").string(), "--port",
                          std::to_string(mps.mpsPort()), "--user", ciraUser, "--password", password, "--ca",
                          mps.rootCertificatePath().string(), "--cn", mps.mpsCertificateCn(), "--count",
                          std::to_string(options.count), "--uuid-prefix", options.uuidPrefix, "--stagger-ms",
                          std::to_string(options.staggerMs), "--timeout-s", std::to_string(options.timeoutS)},
                         output_);
  }

  // The client's {"event":"admitted"} line, once it printed it (bounded by its own --timeout-s plus a margin).
  std::optional<boost::json::object> waitAdmitted() { return waitEvent("admitted"); }
  // Stops the client and returns its {"event":"done"} line.
  std::optional<boost::json::object> stop() {
    client_.stop(std::chrono::seconds(10));
    return event("done");
  }

  std::string uuid(int i) const {
    char tail[13];
    std::snprintf(tail, sizeof tail, "%012x", i);
    return options_.uuidPrefix + "-0000-4000-8000-" + tail;
  }
  std::string output() const { return mps_detail::readText(output_); }

 private:
  std::optional<boost::json::object> event(const std::string& name) const {
    std::istringstream lines(output());
    for (std::string line; std::getline(lines, line);) {
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      if (ec || !v.is_object()) continue;
      const auto* e = v.as_object().if_contains("event");
      if (e && e->is_string() && e->as_string() == name) return v.as_object();
    }
    return std::nullopt;
  }
  std::optional<boost::json::object> waitEvent(const std::string& name) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.timeoutS + 15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto e = event(name)) return e;
      if (!client_.running()) return event(name);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return std::nullopt;
  }

  std::filesystem::path clientsDir_;
  std::filesystem::path output_;
  Options options_;
  BackgroundProgram client_;
};

}  // namespace mesim::test
