// The programs of docs/examples, run against the real daemon as docs/guide-host-drivers.md,
// docs/guide-event-subscribers.md and docs/guide-qa-docker.md run them (the latter's Docker job runs in
// scripts/docker-test.sh; here its mesimctl commands and its scenario run against a daemon outside Docker), so that what the guides show stays what mesim does. Each case skips,
// saying why, where a tool it needs is missing (python3, curl, node and tests/clients/node_modules, /dev/fuse).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/support/daemon_process.h"
#include "tests/support/program_run.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kExamples = fs::path(MESIM_SOURCE_DIR) / "docs" / "examples";
const fs::path kNodeModules = fs::path(MESIM_SOURCE_DIR) / "tests" / "clients" / "node_modules";

// The absolute path of `program` on PATH, or "" (posix_spawn wants a path).
std::string onPath(const std::string& program) {
  const ProgramRun found = runProgram({"/bin/sh", "-c", "command -v " + program}, {}, 10s);
  std::string path = found.output.substr(0, found.output.find('\n'));
  return found.status == 0 && !path.empty() && path[0] == '/' ? path : "";
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// A program left running (a sink, a watchdog daemon, a blocked reader): its output goes to a file the test reads
// while it runs; it is killed when the test ends.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::vector<std::string>& env, const fs::path& outputFile)
      : output_(outputFile) {
    std::vector<std::string> envStrings = childEnvironment(env, {"MESIM_", "LD_PRELOAD="});
    std::vector<char*> envp = nullTerminated(envStrings);
    std::vector<std::string> argStrings = argv;
    std::vector<char*> args = nullTerminated(argStrings);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Background() { kill(SIGKILL); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  std::string output() const { return readFile(output_); }
  bool waitFor(const std::string& text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  // Sends `signal` and waits for the exit; the exit status, or -1.
  int kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Waits for the program to end by itself; its exit status, or -1 (killed at the timeout).
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    kill(SIGKILL);
    return -1;
  }

 private:
  fs::path output_;
  pid_t pid_ = -1;
};

class GuideExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = onPath("python3");
    if (python_.empty()) GTEST_SKIP() << "no python3 on PATH: the examples are Python 3";
    scratch_ = makeTempDir("guides");
    ASSERT_FALSE(scratch_.empty());
  }
  void TearDown() override {
    if (!scratch_.empty()) fs::remove_all(scratch_);
  }

  std::vector<std::string> python(const std::string& example, std::vector<std::string> args = {}) const {
    std::vector<std::string> argv{python_, "-u", (kExamples / example).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::vector<std::string> preloadEnv(const DaemonProcess& daemon) const {
    return {"LD_PRELOAD=" MESIM_PRELOAD_LIBRARY, "MESIM_RUNTIME_DIR=" + daemon.runtimeDir().string()};
  }
  static bool fuseMounted(const DaemonProcess& daemon) { return fs::exists(daemon.meiDevice()); }

  // The guide's curl line: a WS-Man request from `file` with Digest as admin; the HTTP status it printed.
  std::string curlWsman(const DaemonProcess& daemon, const fs::path& file) const {
    const ProgramRun r = runProgram({curl_, "-s", "--digest", "-u", "admin:P@ssw0rd", "-H",
                                     "Content-Type: application/soap+xml;charset=UTF-8", "--data-binary",
                                     "@" + file.string(), "-o", "/dev/null", "-w", "%{http_code}",
                                     "http://127.0.0.1:" + std::to_string(daemon.httpPort()) + "/wsman"},
                                    {}, 20s);
    return r.output;
  }
  // docs/examples/subscribe.xml with the sink on `port` instead of 9999.
  fs::path subscribeFor(std::uint16_t port) const {
    const fs::path file = scratch_ / ("subscribe-" + std::to_string(port) + ".xml");
    std::ofstream(file) << replaceAll(readFile(kExamples / "subscribe.xml"), "127.0.0.1:9999",
                                      "127.0.0.1:" + std::to_string(port));
    return file;
  }
  bool needCurl() {
    curl_ = onPath("curl");
    return !curl_.empty();
  }

  std::string python_, curl_;
  fs::path scratch_;
};

TEST_F(GuideExamples, AmthiStateOverFuseAndPreload) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start()) << daemon.log();
  const std::string expected = "connected: max_msg_length=4096 protocol_version=1\n"
                               "answer 0x04800011 status=0 provisioning_state=2\n";
  const ProgramRun viaPreload = runProgram(python("amthi_state.py", {"/dev/mei0"}), preloadEnv(daemon), 30s);
  EXPECT_EQ(viaPreload.status, 0) << viaPreload.output;
  EXPECT_EQ(viaPreload.output, expected);
  if (!fuseMounted(daemon)) GTEST_SKIP() << "no FUSE mount here (/dev/fuse): the preload half passed";
  const ProgramRun viaFuse = runProgram(python("amthi_state.py", {daemon.meiDevice().string()}), {}, 30s);
  EXPECT_EQ(viaFuse.status, 0) << viaFuse.output;
  EXPECT_EQ(viaFuse.output, expected);
}

// survive_reset.py blocks in read(); a firmware reset from the control API ends it with ENODEV, and the same fd
// connects again: over the preload socket, and over FUSE where it is mounted.
TEST_F(GuideExamples, SurviveResetReconnectsAfterAFirmwareReset) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start()) << daemon.log();
  auto check = [&](const std::string& device, const std::vector<std::string>& env, const std::string& way) {
    Background reader(python("survive_reset.py", {device}), env, scratch_ / ("reset-" + way + ".txt"));
    ASSERT_TRUE(reader.waitFor("waiting in read()", 30s)) << way << ": " << reader.output();
    EXPECT_EQ(daemon.post("/faults/firmware-reset").substr(0, 3), "200");
    EXPECT_EQ(reader.wait(30s), 0) << way << ": " << reader.output();
    const std::string out = reader.output();
    EXPECT_NE(out.find("read: ENODEV\n"), std::string::npos) << way << ": " << out;
    EXPECT_NE(out.find("connected again on the same fd\n"), std::string::npos) << way << ": " << out;
  };
  check("/dev/mei0", preloadEnv(daemon), "preload");
  if (!fuseMounted(daemon)) GTEST_SKIP() << "no FUSE mount here (/dev/fuse): the preload half passed";
  check(daemon.meiDevice().string(), {}, "fuse");
}

TEST_F(GuideExamples, HbmHelloEnumeratesTheClientsOverTheRawLink) {
  DaemonProcess daemon;
  const fs::path socket = daemon.runtimeDir() / "hbm.sock";
  ASSERT_TRUE(daemon.start({"--hbm-listen", "unix:" + socket.string()}))
      << daemon.log();
  const ProgramRun hello = runProgram(python("hbm_hello.py", {socket.string()}), {}, 30s);
  EXPECT_EQ(hello.status, 0) << hello.output;
  EXPECT_TRUE(std::regex_search(hello.output, std::regex("READY fw_status( [0-9A-F]{8}){6}\n"))) << hello.output;
  EXPECT_NE(hello.output.find("HOST_START supported=1 ME max 2.2\n"), std::string::npos) << hello.output;
  for (const char* client : {"55213584-9A29-4916-BADF-0FB7ED682AEB protocol 1 max_conn 1",
                             "12F80028-B4B7-4B2D-ACA8-46E0FF65814C protocol 1 max_conn 128 fixed 0 max_msg_length 4096",
                             "8E6A6715-9ABC-4043-88EF-9E39C6F63E0F protocol 1 max_conn 1",
                             "6733A4DB-0476-4E7B-B3AF-BCFC29BEE7A7 protocol 1 max_conn 4",
                             "05B79A6F-4628-4D7F-899D-A91514CB32AB protocol 2 max_conn 4"})
    EXPECT_NE(hello.output.find(client), std::string::npos) << client << " missing from\n" << hello.output;
}

// The event subscribers' walkthrough, command for command: a sink, subscribe.xml posted with curl, the simulated OS
// booted and crashed with mesimctl on the manual clock, and PLAT0322 at the sink with the ReferenceParameters.
TEST_F(GuideExamples, CrashAlertWalkthroughOnTheManualClock) {
  if (!needCurl()) GTEST_SKIP() << "no curl on PATH";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--clock", "manual"})) << daemon.log();
  const std::string url = "http://127.0.0.1:" + std::to_string(daemon.controlPort());
  auto mesimctl = [&](std::vector<std::string> words) {
    words.insert(words.begin(), {MESIMCTL_BINARY, "--url", url});
    return runProgram(words, {}, 30s);
  };
  const std::uint16_t port = test::freeLoopbackPort();
  Background sink(python("event_receiver.py", {"--port", std::to_string(port)}), {}, scratch_ / "events.txt");
  ASSERT_TRUE(sink.waitFor("listening on", 30s)) << sink.output();
  EXPECT_EQ(curlWsman(daemon, subscribeFor(port)), "200");

  EXPECT_EQ(mesimctl({"clock", "advance", "5"}).status, 0);
  const ProgramRun host = mesimctl({"host"});
  EXPECT_NE(host.output.find("\"os\": \"running\""), std::string::npos) << host.output;
  EXPECT_NE(host.output.find("\"watchdog_daemon\": \"heartbeating\""), std::string::npos) << host.output;
  EXPECT_NE(host.output.find("\"watchdog_timeout\": 120"), std::string::npos) << host.output;
  const ProgramRun crash = mesimctl({"host", "os-crash"});
  EXPECT_NE(crash.output.find("\"os\": \"crashed\""), std::string::npos) << crash.output;
  EXPECT_EQ(mesimctl({"clock", "advance", "121"}).status, 0);

  ASSERT_TRUE(sink.waitFor("<g:MessageID>PLAT0322</g:MessageID>", 20s)) << sink.output() << daemon.log();
  const std::string event = sink.output();
  EXPECT_NE(event.find("<m:node xmlns:m=\"http://example.com/qa\">lab-42</m:node>"), std::string::npos) << event;
  EXPECT_NE(event.find("<g:MessageArguments>ManagedSystem</g:MessageArguments>"), std::string::npos) << event;
  EXPECT_EQ(count(event, "POST /events"), 1u) << event;
}

// The same alert from a real watchdog daemon on the real clock: heartbeat.py takes dev/watchdog0 over from the
// simulated OS, is killed, and PLAT0322 reaches the sink, acknowledged.
TEST_F(GuideExamples, CrashAlertFromAKilledWatchdogDaemon) {
  if (!needCurl()) GTEST_SKIP() << "no curl on PATH";
  if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no /dev/fuse: dev/watchdog0 is a FUSE node";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "on", "--watchdog-min-timeout", "3"})) << daemon.log();
  ASSERT_TRUE(daemon.waitForLog("iamt_wdt registered", 10s)) << daemon.log();
  const std::uint16_t port = test::freeLoopbackPort();
  Background sink(python("event_receiver.py", {"--port", std::to_string(port)}), {}, scratch_ / "events.txt");
  ASSERT_TRUE(sink.waitFor("listening on", 30s)) << sink.output();
  EXPECT_EQ(curlWsman(daemon, subscribeFor(port)), "200");

  Background heartbeat(python("heartbeat.py", {(daemon.runtimeDir() / "dev" / "watchdog0").string(), "3"}), {},
                       scratch_ / "heartbeat.txt");
  ASSERT_TRUE(heartbeat.waitFor("heartbeating", 30s)) << heartbeat.output();
  ASSERT_TRUE(daemon.waitForLog("OS watchdog armed for 3 s", 10s)) << daemon.log();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sink.output().find("PLAT0322"), std::string::npos) << "no alert while the daemon pings";
  heartbeat.kill(SIGKILL);
  ASSERT_TRUE(sink.waitFor("<g:MessageID>PLAT0322</g:MessageID>", 20s)) << sink.output() << daemon.log();
  const std::string event = sink.output();
  EXPECT_NE(event.find("POST /events\n"), std::string::npos) << event;
  EXPECT_NE(event.find("<m:node xmlns:m=\"http://example.com/qa\">lab-42</m:node>"), std::string::npos) << event;
  EXPECT_NE(event.find("<c:AckRequested"), std::string::npos) << event;
  EXPECT_NE(event.find("<g:PerceivedSeverity>6</g:PerceivedSeverity>"), std::string::npos) << event;
  EXPECT_TRUE(daemon.waitForLog("watchdog: OS watchdog expired after 3 s", 5s)) << daemon.log();
  // PushWithAck: the sink's Ack is what made it delivered.
  std::string status;
  for (int i = 0; i < 100 && status.find("\"delivered\":1") == std::string::npos; ++i, std::this_thread::sleep_for(50ms))
    status = daemon.get("/status");
  EXPECT_NE(status.find("\"delivered\":1"), std::string::npos) << status;
}

// A sink that was down: the subscription is suspended after its retries, and renew.xml (subscription 1) resumes it.
TEST_F(GuideExamples, RenewResumesASuspendedSubscription) {
  if (!needCurl()) GTEST_SKIP() << "no curl on PATH";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--event-retries", "1",
                            "--event-retry-interval", "100ms", "--event-policy", "suspend"}))
      << daemon.log();
  const std::uint16_t port = test::freeLoopbackPort();
  EXPECT_EQ(curlWsman(daemon, subscribeFor(port)), "200");
  EXPECT_EQ(daemon.post("/events/raise?messageId=iAMT0005&arg=0").substr(0, 3), "200");
  ASSERT_TRUE(daemon.waitForLog("subscription 1 suspended after 2 failed attempts", 20s)) << daemon.log();

  Background sink(python("event_receiver.py", {"--port", std::to_string(port)}), {}, scratch_ / "events.txt");
  ASSERT_TRUE(sink.waitFor("listening on", 30s)) << sink.output();
  EXPECT_EQ(curlWsman(daemon, kExamples / "renew.xml"), "200");
  ASSERT_TRUE(sink.waitFor("<g:MessageID>iAMT0005</g:MessageID>", 20s)) << sink.output() << daemon.log();
  EXPECT_TRUE(daemon.waitForLog("subscription 1 resumed", 5s)) << daemon.log();
  EXPECT_EQ(count(sink.output(), "POST /events"), 1u) << sink.output();
}

// The console clients: MeshCentral's stack and wsman-messages subscribe a sink that demands Digest, an alert
// reaches both with their ReferenceParameters, and --unsubscribe-all removes them.
TEST_F(GuideExamples, ConsoleClientsSubscribeWithDigestForTheSink) {
  if (!needCurl()) GTEST_SKIP() << "no curl on PATH";
  const std::string node = onPath("node");
  if (node.empty()) GTEST_SKIP() << "no node on PATH";
  if (!fs::exists(kNodeModules / "meshcentral") || !fs::exists(kNodeModules / "@device-management-toolkit"))
    GTEST_SKIP() << "no " << kNodeModules.string() << " (npm ci in tests/clients; scripts/test.sh does it)";
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off"})) << daemon.log();
  const std::uint16_t port = test::freeLoopbackPort();
  const std::string sinkUrl = "http://127.0.0.1:" + std::to_string(port);
  Background sink(python("event_receiver.py", {"--port", std::to_string(port), "--digest", "sink:Sink-Pass"}), {},
                  scratch_ / "events.txt");
  ASSERT_TRUE(sink.waitFor("listening on", 30s)) << sink.output();
  const std::vector<std::string> env{"NODE_PATH=" + kNodeModules.string(),
                                     "MESIM_PORT=" + std::to_string(daemon.httpPort())};

  const ProgramRun mesh = runProgram({node, (kExamples / "meshcentral_subscribe.js").string(), sinkUrl + "/mesh",
                                      "PushWithAck", "sink", "Sink-Pass"}, env, 60s);
  EXPECT_EQ(mesh.status, 0) << mesh.output;
  EXPECT_NE(mesh.output.find("Subscribe: HTTP 200\n"), std::string::npos) << mesh.output;
  EXPECT_NE(mesh.output.find("Intel(r) AMT:Subscription Manager 1: " + sinkUrl + "/mesh, DeliveryMode 3\n"),
            std::string::npos) << mesh.output;

  const ProgramRun request = runProgram({node, (kExamples / "wsman_messages_subscribe.js").string(),
                                         sinkUrl + "/dmt", "Push", "sink", "Sink-Pass"}, env, 60s);
  ASSERT_EQ(request.status, 0) << request.output;
  const fs::path requestFile = scratch_ / "dmt-subscribe.xml";
  std::ofstream(requestFile) << request.output;
  EXPECT_EQ(curlWsman(daemon, requestFile), "200");

  EXPECT_EQ(daemon.post("/events/raise?messageId=PLAT0322&arg=ManagedSystem&category=Watchdog&severity=6")
                .substr(0, 3), "200");
  ASSERT_TRUE(sink.waitFor("POST /mesh", 20s) && sink.waitFor("POST /dmt", 20s)) << sink.output() << daemon.log();
  const std::string events = sink.output();
  EXPECT_NE(events.find("<m:arg xmlns:m=\"http://x.com\">"), std::string::npos) << events;
  EXPECT_NE(events.find("<m:node xmlns:m=\"http://example.com/qa\">wsman-messages</m:node>"), std::string::npos)
      << events;
  EXPECT_EQ(count(events, "<g:MessageID>PLAT0322</g:MessageID>"), 2u) << events;

  const ProgramRun gone = runProgram({node, (kExamples / "meshcentral_subscribe.js").string(), "--unsubscribe-all"},
                                     env, 60s);
  EXPECT_EQ(gone.status, 0) << gone.output;
  EXPECT_EQ(count(gone.output, "UnSubscribe: HTTP 200\n"), 2u) << gone.output;
  EXPECT_NE(daemon.get("/status").find("\"subscriptions\":[]"), std::string::npos) << daemon.get("/status");
}

}  // namespace
}  // namespace mesim::test

namespace mesim::test {
namespace {

// docs/guide-qa-docker.md's step 3 (the two shipped scenarios run by mesimctl with --junit, a subscriber beside the
// device) and its own YAML case ("Writing a case"), each on a fresh device on the manual clock, as the guide runs them.
TEST_F(GuideExamples, QaGuideScenariosPassWithMesimctl) {
  const std::string guide = readFile(fs::path(MESIM_SOURCE_DIR) / "docs" / "guide-qa-docker.md");
  const auto begin = guide.find("```yaml\n");
  ASSERT_NE(begin, std::string::npos) << "the guide has no YAML example";
  const auto end = guide.find("```\n", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const fs::path own = scratch_ / "guide-case.yaml";
  std::ofstream(own) << guide.substr(begin + 8, end - begin - 8);
  if (!needCurl()) GTEST_SKIP() << "no curl on PATH";
  auto scenarioRun = [&](const DaemonProcess& daemon, std::vector<std::string> files, const fs::path& junit) {
    std::vector<std::string> argv{MESIMCTL_BINARY, "--url", "http://127.0.0.1:" + std::to_string(daemon.controlPort()),
                                  "scenario", "run"};
    argv.insert(argv.end(), files.begin(), files.end());
    argv.insert(argv.end(), {"--junit", junit.string(), "--limit", "60"});
    return runProgram(argv, {}, 90s);
  };

  {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--clock", "manual"})) << daemon.log();
    const std::uint16_t port = test::freeLoopbackPort();
    Background sink(python("event_receiver.py", {"--port", std::to_string(port)}), {}, scratch_ / "events.txt");
    ASSERT_TRUE(sink.waitFor("listening on", 30s)) << sink.output();
    ASSERT_EQ(curlWsman(daemon, subscribeFor(port)), "200");  // subscription 1, as subscriber-down-up.yaml needs
    const fs::path scenarios = fs::path(MESIM_SOURCE_DIR) / "scenarios";
    const fs::path junit = scratch_ / "results.xml";
    const ProgramRun run = scenarioRun(
        daemon, {(scenarios / "host-crash-alert.yaml").string(), (scenarios / "subscriber-down-up.yaml").string()},
        junit);
    EXPECT_EQ(run.status, 0) << run.output << daemon.log();
    EXPECT_EQ(count(run.output, "PASS "), 2u) << run.output;
    const std::string report = readFile(junit);
    EXPECT_EQ(count(report, "<testsuite "), 2u) << report;
    EXPECT_EQ(count(report, "<failure"), 0u) << report;
    EXPECT_EQ(count(sink.output(), "<g:MessageID>PLAT0322</g:MessageID>"), 1u) << sink.output();
    EXPECT_EQ(count(sink.output(), "<g:MessageID>iAMT0005</g:MessageID>"), 1u) << sink.output();
  }
  {
    DaemonProcess daemon;
    ASSERT_TRUE(daemon.start({"--fuse", "off", "--preload", "off", "--clock", "manual"})) << daemon.log();
    const ProgramRun run = scenarioRun(daemon, {own.string()}, scratch_ / "own.xml");
    EXPECT_EQ(run.status, 0) << run.output << daemon.log();
    EXPECT_NE(run.output.find("'a hung host is reported while the console's Gets fail' passed"), std::string::npos)
        << run.output;
  }
}

}  // namespace
}  // namespace mesim::test
