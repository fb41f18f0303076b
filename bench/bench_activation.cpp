// What an AMT activation costs through the LMS path, next to a plain WS-Man Get in the same run, against the real
// daemon: started with --provisioning pre and a test root CA made for this run trusted by --trusted-root-hash,
// reached over its FUSE dev/mei0 (or libmesim-preload.so where FUSE is missing) by an LMS-like APF host, and
// driven as rpc-go drives a local activation: AMTHI (a connection per call), then WS-Man through LMS with the OS
// admin account. Three flows, each round from factory state (POST /provisioning/factory-reset, not timed):
//  a) host-based setup to client control mode: Get IPS_HostBasedSetupService, Setup;
//  b) (a), then UpgradeClientToAdmin with the chain (AddNextCertInChain) and the leaf key's nonce signature;
//  c) admin control mode by certificate: AddNextCertInChain per certificate, AdminSetup.
// Every round checks the state the flow must leave (AMTHI in the flow, GET /provisioning after) and the run stops
// at the first that is wrong: a benchmark of failures is no benchmark. The agent's own signing is timed apart and
// left out of the activation's time, as it is not the firmware's cost.
// Run by hand: build/bin/bench_activation [rounds] [gets per round] [--rsa-bits B] [--mei fuse|preload]
#include <linux/magic.h>
#include <openssl/rand.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/support/get_loop.h"
#include "common/text_codecs.h"
#include "firmware/clients/amthi_codec.h"
#include "firmware/platform/provisioning_verifier.h"
#include "tests/support/amthi_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/lms_host.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace {

using namespace mesim;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;
namespace amthi = clients::amthi;
using amthi::Command;

const std::string kIps = "http://intel.com/wbem/wscim/1/ips-schema/1/";
const std::string kHostBasedSetup = kIps + "IPS_HostBasedSetupService";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kFactoryPassword = "Factory1!";
const std::string kConsolePassword = "Console#2024";
// Set in the environment of the re-executed bench that runs with libmesim-preload.so.
const char* kPreloadedMarker = "MESIM_BENCH_ACTIVATION_PRELOADED";

// A step of an activation did not do what it must: the run stops, loudly.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto a = text.find(open);
  if (a == std::string::npos) return {};
  const auto b = text.find(close, a + open.size());
  return b == std::string::npos ? std::string() : text.substr(a + open.size(), b - a - open.size());
}

// CPU time of every thread of `pid`, in ms (/proc/PID/task/*/schedstat: nanoseconds on a CPU).
double processCpuMs(pid_t pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    double onCpu = 0;
    if (in >> onCpu) ns += onCpu;
  }
  return ns / 1e6;
}

// One round of one flow: the time of each step, in the order they ran.
struct Round {
  std::vector<std::pair<std::string, double>> stepsMs;
  double clientMs = 0;     // the agent's own work (signing the nonces): not the firmware's cost
  double totalMs = 0;      // end to end, clientMs left out
  double daemonCpuMs = 0;  // CPU the daemon spent meanwhile (all its threads)
};

class Stopwatch {
 public:
  explicit Stopwatch(pid_t daemon) : daemon_(daemon), cpuAtStart_(processCpuMs(daemon)), start_(Clock::now()) {}

  template <class F>
  void step(const std::string& name, F&& work) {
    const auto start = Clock::now();
    work();
    round_.stepsMs.emplace_back(name, msSince(start));
  }
  // The agent's own work: shown in the breakdown, left out of the total.
  template <class F>
  void client(const std::string& name, F&& work) {
    const auto start = Clock::now();
    work();
    const double ms = msSince(start);
    round_.stepsMs.emplace_back(name, ms);
    round_.clientMs += ms;
  }
  Round finish() {
    round_.totalMs = msSince(start_) - round_.clientMs;
    round_.daemonCpuMs = processCpuMs(daemon_) - cpuAtStart_;
    return std::move(round_);
  }

 private:
  pid_t daemon_;
  double cpuAtStart_;
  Clock::time_point start_;
  Round round_;
};

std::string base64(const Bytes& bytes) { return text::base64Encode(bytes); }

std::string commandName(Command command) { return amthi::commandName(static_cast<std::uint32_t>(command)); }

// The agent's side: AMTHI over dev/mei0, WS-Man through the LMS host's local port. Counts what it sends.
class Agent {
 public:
  Agent(std::string meiDevice, std::uint16_t lmsPort) : meiDevice_(std::move(meiDevice)), lmsPort_(lmsPort) {}

  // A command's payload (after the status); Failure unless the firmware answered SUCCESS.
  Bytes amthi(Command command, const Bytes& payload = {}) {
    ++amthiCalls;
    const Bytes r = test::amthiRequest(meiDevice_, static_cast<std::uint32_t>(command), payload);
    if (r.size() < amthi::kHeaderSize + amthi::kStatusSize)
      throw Failure("AMTHI " + commandName(command) + ": no answer from " + meiDevice_);
    if (const auto status = test::amthiStatus(r); status != 0)
      throw Failure("AMTHI " + commandName(command) + ": status " + std::to_string(status));
    return Bytes(r.begin() + amthi::kHeaderSize + amthi::kStatusSize, r.end());
  }
  std::uint32_t provisioningState() { return test::amthiU32At(amthi(Command::GetProvisioningState), 0); }
  std::uint32_t controlMode() { return test::amthiU32At(amthi(Command::GetControlMode), 0); }
  amthi::LocalSystemAccount localSystemAccount() {
    auto account = amthi::decodeLocalSystemAccount(amthi(Command::GetLocalSystemAccount, Bytes(40, 0)));
    if (!account) throw Failure("AMTHI GetLocalSystemAccount: not the 68-byte account layout");
    return *account;
  }
  void expectState(std::uint32_t provisioningState, std::uint32_t controlMode, const std::string& after) {
    const auto state = this->provisioningState();
    const auto mode = this->controlMode();
    if (state != provisioningState || mode != controlMode)
      throw Failure("after " + after + ": AMTHI GetProvisioningState " + std::to_string(state) + ", GetControlMode " +
                    std::to_string(mode) + " (expected " + std::to_string(provisioningState) + ", " +
                    std::to_string(controlMode) + ")");
  }

  // The body of a 200 answer; Failure for anything else.
  std::string post(test::WsmanDigestClient& client, const std::string& request, const std::string& what) {
    ++wsmanRequests;
    auto answer = client.post(request);
    if (answer.status != 200)
      throw Failure(what + ": HTTP " + std::to_string(answer.status) + " " + answer.error + " " + answer.body);
    return answer.body;
  }
  // An IPS_HostBasedSetupService method that must answer ReturnValue 0.
  void invoke(test::WsmanDigestClient& client, const std::string& method, const std::string& inputs) {
    const std::string body = post(client,
                                  test::wsmanEnvelope(kHostBasedSetup + "/" + method, kHostBasedSetup,
                                                      "<h:" + method + "_INPUT xmlns:h=\"" + kHostBasedSetup + "\">" +
                                                          inputs + "</h:" + method + "_INPUT>"),
                                  method);
    const std::string returned = between(body, "ReturnValue>", "</");
    if (returned != "0") throw Failure(method + ": ReturnValue " + returned + " " + body);
  }

  std::uint16_t lmsPort() const { return lmsPort_; }
  const std::string& meiDevice() const { return meiDevice_; }

  int amthiCalls = 0;
  int wsmanRequests = 0;

 private:
  std::string meiDevice_;
  std::uint16_t lmsPort_;
};

// A WS-Man session through LMS with the OS admin account, and AMT's Digest realm from AMT_GeneralSettings.
struct Session {
  std::unique_ptr<test::WsmanDigestClient> client;
  std::string realm;
};

// rpc-go's opening: the platform's identity and state, the OS admin account (AMTHI, a connection per call), then
// a connection through LMS and the realm (the first request meets the Digest challenge).
Session openSession(Agent& agent, Stopwatch& watch, std::uint32_t expectedState) {
  amthi::LocalSystemAccount account;
  watch.step("AMTHI GetUUID, GetProvisioningState, GetLocalSystemAccount", [&] {
    agent.amthi(Command::GetUuid);
    if (const auto state = agent.provisioningState(); state != expectedState)
      throw Failure("provisioning state " + std::to_string(state) + " before the flow, expected " +
                    std::to_string(expectedState));
    account = agent.localSystemAccount();
  });
  Session session;
  watch.step("LMS connect, Digest challenge, Get AMT_GeneralSettings", [&] {
    session.client = std::make_unique<test::WsmanDigestClient>(agent.lmsPort(), account.user, account.password);
    const std::string body = agent.post(*session.client, test::wsmanGetGeneralSettings(), "Get AMT_GeneralSettings");
    session.realm = between(body, "DigestRealm>", "</");
    if (session.realm.empty()) throw Failure("AMT_GeneralSettings without DigestRealm: " + body);
  });
  return session;
}

// Get IPS_HostBasedSetupService: checks CurrentControlMode, returns the 20-byte ConfigurationNonce.
Bytes hostBasedSetupService(Agent& agent, Session& session, const std::string& expectedMode) {
  const std::string body = agent.post(*session.client, test::wsmanEnvelope(kTransfer + "Get", kHostBasedSetup),
                                      "Get IPS_HostBasedSetupService");
  const std::string mode = between(body, "CurrentControlMode>", "</");
  if (mode != expectedMode) throw Failure("CurrentControlMode " + mode + ", expected " + expectedMode + ": " + body);
  Bytes nonce = text::base64Decode(between(body, "ConfigurationNonce>", "</")).value_or(Bytes{});
  if (nonce.size() != 20) throw Failure("ConfigurationNonce of " + std::to_string(nonce.size()) + " bytes: " + body);
  return nonce;
}

std::string adminPasswordInputs(const Session& session) {
  return "<h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>" +
         test::md5Hex("admin:" + session.realm + ":" + kConsolePassword) + "</h:NetworkAdminPassword>";
}

struct Signed {
  Bytes mcNonce, signature;
};

// The agent's part of admin control mode: a fresh McNonce and the leaf key's signature over both nonces.
Signed signNonces(const test::ProvisioningPki& pki, const Bytes& configurationNonce) {
  Signed s;
  s.mcNonce.resize(20);
  if (RAND_bytes(s.mcNonce.data(), 20) != 1) throw Failure("RAND_bytes failed");
  s.signature = test::signMessage(pki.leafKey, test::concat(configurationNonce, s.mcNonce));
  return s;
}

std::string signatureInputs(const Signed& s) {
  return "<h:McNonce>" + base64(s.mcNonce) + "</h:McNonce><h:SigningAlgorithm>2</h:SigningAlgorithm>" +
         "<h:DigitalSignature>" + base64(s.signature) + "</h:DigitalSignature>";
}

void addChain(Agent& agent, Session& session, const std::vector<Bytes>& chain) {
  for (std::size_t i = 0; i < chain.size(); ++i)
    agent.invoke(*session.client, "AddNextCertInChain",
                 "<h:NextCertificate>" + base64(chain[i]) + "</h:NextCertificate><h:IsLeafCertificate>" +
                     (i == 0 ? "true" : "false") + "</h:IsLeafCertificate><h:IsRootCertificate>" +
                     (i + 1 == chain.size() ? "true" : "false") + "</h:IsRootCertificate>");
}

// a) pre-provisioning -> client control mode by host-based setup. The session stays open for (b).
Session toClientControlMode(Agent& agent, Stopwatch& watch) {
  Session session = openSession(agent, watch, 0);
  watch.step("Get IPS_HostBasedSetupService", [&] { hostBasedSetupService(agent, session, "0"); });
  watch.step("Setup", [&] { agent.invoke(*session.client, "Setup", adminPasswordInputs(session)); });
  watch.step("AMTHI GetProvisioningState, GetControlMode (check CCM)", [&] { agent.expectState(2, 1, "Setup"); });
  return session;
}

// b) (a), then client -> admin control mode.
void upgradeToAdminControlMode(Agent& agent, Stopwatch& watch, const test::ProvisioningPki& pki,
                               const std::vector<Bytes>& chain) {
  Session session = toClientControlMode(agent, watch);
  Bytes nonce;
  watch.step("Get IPS_HostBasedSetupService (ConfigurationNonce)",
             [&] { nonce = hostBasedSetupService(agent, session, "1"); });
  Signed s;
  watch.client("agent: sign ConfigurationNonce || McNonce (not counted)", [&] { s = signNonces(pki, nonce); });
  watch.step("AddNextCertInChain x" + std::to_string(chain.size()), [&] { addChain(agent, session, chain); });
  watch.step("UpgradeClientToAdmin",
             [&] { agent.invoke(*session.client, "UpgradeClientToAdmin", signatureInputs(s)); });
  watch.step("AMTHI GetProvisioningState, GetControlMode (check ACM)",
             [&] { agent.expectState(2, 2, "UpgradeClientToAdmin"); });
}

// c) pre-provisioning -> admin control mode by certificate.
void adminSetup(Agent& agent, Stopwatch& watch, const test::ProvisioningPki& pki, const std::vector<Bytes>& chain) {
  Session session = openSession(agent, watch, 0);
  Bytes nonce;
  watch.step("Get IPS_HostBasedSetupService (ConfigurationNonce)",
             [&] { nonce = hostBasedSetupService(agent, session, "0"); });
  Signed s;
  watch.client("agent: sign ConfigurationNonce || McNonce (not counted)", [&] { s = signNonces(pki, nonce); });
  watch.step("AddNextCertInChain x" + std::to_string(chain.size()), [&] { addChain(agent, session, chain); });
  watch.step("AdminSetup",
             [&] { agent.invoke(*session.client, "AdminSetup", adminPasswordInputs(session) + signatureInputs(s)); });
  watch.step("AMTHI GetProvisioningState, GetControlMode (check ACM)", [&] { agent.expectState(2, 2, "AdminSetup"); });
}

enum class Flow { HostBasedToCcm, PreToCcmToAcm, PreToAcm };

struct FlowResult {
  std::string name;
  std::string controlMode;  // what GET /provisioning must show after a round
  std::vector<Round> rounds;
  int wsmanRequests = 0;  // per round
  int amthiCalls = 0;
};

struct FlowRunner {
  test::DaemonProcess& daemon;
  Agent& agent;
  const test::ProvisioningPki& pki;
  std::vector<Bytes> chain;

  // Factory state. The test root stays trusted: --trusted-root-hash puts it in the firmware's own list, which a
  // factory reset keeps.
  void resetToFactory() {
    const std::string reset = daemon.post("/provisioning/factory-reset");
    if (reset.rfind("200 ", 0) != 0 || reset.find("\"state\":\"pre\"") == std::string::npos)
      throw Failure("POST /provisioning/factory-reset: " + reset);
  }

  Round run(Flow flow) {
    resetToFactory();
    Stopwatch watch(daemon.pid());
    switch (flow) {
      case Flow::HostBasedToCcm: toClientControlMode(agent, watch); break;
      case Flow::PreToCcmToAcm: upgradeToAdminControlMode(agent, watch, pki, chain); break;
      case Flow::PreToAcm: adminSetup(agent, watch, pki, chain); break;
    }
    return watch.finish();
  }

  // The control API's view agrees with AMTHI's: post-provisioning in `mode`.
  void confirm(const std::string& mode) {
    const std::string shown = daemon.get("/provisioning");
    if (shown.find("\"state\":\"post\"") == std::string::npos ||
        shown.find("\"control_mode\":\"" + mode + "\"") == std::string::npos)
      throw Failure("GET /provisioning does not show post-provisioning in " + mode + ": " + shown);
  }
};

struct GetSamples {
  std::vector<double> keepAliveUs, newConnectionUs;
};

// After a round: Gets through LMS as the OS admin and on the network port as the console's admin, the first on a
// new connection (connect, Digest challenge, Get), the rest keep-alive.
void sampleGets(Agent& agent, std::uint16_t networkPort, int count, GetSamples& lms, GetSamples& network) {
  const auto account = agent.localSystemAccount();
  test::WsmanDigestClient viaLms(agent.lmsPort(), account.user, account.password);
  test::WsmanDigestClient viaNetwork(networkPort, "admin", kConsolePassword);
  for (auto [client, samples] : {std::pair{&viaLms, &lms}, std::pair{&viaNetwork, &network}}) {
    const auto start = Clock::now();
    auto first = client->post(test::wsmanGetGeneralSettings());
    if (first.status != 200)
      throw Failure("Get on a new connection: HTTP " + std::to_string(first.status) + " " + first.error);
    samples->newConnectionUs.push_back(msSince(start) * 1000);
    if (auto failed = bench::timeGets(*client, count, samples->keepAliveUs); !failed.empty()) throw Failure(failed);
  }
}

struct Options {
  int rounds = 50;
  int getsPerRound = 40;
  unsigned rsaBits = 2048;
  std::string mei;  // fuse, preload, or empty: FUSE where /dev/fuse is usable
};

bool parse(int argc, char** argv, Options& o) {
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rsa-bits" && i + 1 < argc) o.rsaBits = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--mei" && i + 1 < argc) o.mei = argv[++i];
    else if (!a.empty() && a[0] != '-') positional.push_back(a);
    else return false;
  }
  if (positional.size() > 0) o.rounds = std::atoi(positional[0].c_str());
  if (positional.size() > 1) o.getsPerRound = std::atoi(positional[1].c_str());
  return o.rounds > 0 && o.getsPerRound > 0 && o.rsaBits >= 1024 && o.rsaBits <= 8192 &&
         (o.mei.empty() || o.mei == "fuse" || o.mei == "preload");
}

// Re-executes this bench with libmesim-preload.so loaded; returns only if that failed.
int reexecWithPreload(char** argv, bool asked) {
  const std::string library = (test::buildDir() / "lib" / "libmesim-preload.so").string();
  if (::access(library.c_str(), R_OK) != 0) {
    std::fprintf(stderr, "no usable /dev/fuse and no %s\n", library.c_str());
    return 1;
  }
  ::setenv("LD_PRELOAD", library.c_str(), 1);
  ::setenv(kPreloadedMarker, asked ? "asked" : "no-fuse", 1);
  std::vector<char*> args{argv, argv + 1};
  std::string mei = "--mei", preload = "preload";
  for (char** a = argv + 1; *a; ++a) args.push_back(*a);
  args.push_back(mei.data());
  args.push_back(preload.data());
  args.push_back(nullptr);
  ::execv("/proc/self/exe", args.data());
  std::perror("execv");
  return 1;
}

void printFlows(const std::vector<FlowResult>& flows, const bench::Percentiles& lmsGet,
                const bench::Percentiles& networkGet) {
  const double lmsGetMs = lmsGet.p50 / 1000, networkGetMs = networkGet.p50 / 1000;
  std::printf("\n| %-47s | %6s | %8s | %8s | %8s | %14s | %13s | %13s | %10s | %5s |\n", "flow (ms per activation)",
              "rounds", "p50", "p99", "max", "daemon CPU p50", "x LMS Get p50", "x net Get p50", "WS-Man req", "AMTHI");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(49, '-').c_str(), std::string(8, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(), std::string(10, '-').c_str(),
              std::string(16, '-').c_str(), std::string(15, '-').c_str(), std::string(15, '-').c_str(),
              std::string(12, '-').c_str(), std::string(7, '-').c_str());
  for (const auto& f : flows) {
    std::vector<double> total, cpu;
    for (const auto& r : f.rounds) {
      total.push_back(r.totalMs);
      cpu.push_back(r.daemonCpuMs);
    }
    const auto t = bench::percentiles(total);
    std::printf("| %-47s | %6zu | %8.2f | %8.2f | %8.2f | %14.2f | %12.0fx | %12.0fx | %10d | %5d |\n", f.name.c_str(),
                t.count, t.p50, t.p99, t.max, bench::percentiles(cpu).p50, lmsGetMs > 0 ? t.p50 / lmsGetMs : 0.0,
                networkGetMs > 0 ? t.p50 / networkGetMs : 0.0, f.wsmanRequests, f.amthiCalls);
  }
  std::printf("  x Get p50: the activation's p50 over the keep-alive Get's p50 below, i.e. how many Gets one\n"
              "  activation costs. WS-Man req: requests the agent sent per activation (+1 Digest challenge on its new\n"
              "  connection, which AMT closes after its 401, so a session opens two connections: two APF channels\n"
              "  on the LMS path); AMTHI: commands, each on its own dev/mei0 connection as rpc-go makes them. Daemon CPU:\n"
              "  all its threads, /proc schedstat, during the timed part.\n");

  for (const auto& f : flows) {
    std::printf("\n  where the time of \"%s\" goes (mean over the rounds, and p50):\n", f.name.c_str());
    // Every round runs the same steps in the same order.
    const auto& steps = f.rounds.front().stepsMs;
    double meanTotal = 0;
    for (const auto& r : f.rounds) meanTotal += r.totalMs / static_cast<double>(f.rounds.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
      std::vector<double> samples;
      for (const auto& r : f.rounds) samples.push_back(r.stepsMs[i].second);
      double mean = 0;
      for (double ms : samples) mean += ms / static_cast<double>(samples.size());
      const std::string& name = steps[i].first;
      const bool agentsOwn = name.rfind("agent:", 0) == 0;
      std::printf("    %-58s %8.2f ms mean %8.2f ms p50  %s\n", name.c_str(), mean, bench::percentiles(samples).p50,
                  agentsOwn ? "" : (std::to_string(static_cast<int>(100 * mean / meanTotal + 0.5)) + "%").c_str());
    }
  }
}

void printGets(const std::vector<std::pair<std::string, bench::Percentiles>>& rows) {
  std::printf("\n| %-66s | %7s | %9s | %9s | %9s |\n", "reference: WS-Man Get AMT_GeneralSettings (us)", "count", "p50",
              "p99", "max");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(68, '-').c_str(), std::string(9, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str(), std::string(11, '-').c_str());
  for (const auto& [name, p] : rows)
    std::printf("| %-66s | %7zu | %9.1f | %9.1f | %9.1f |\n", name.c_str(), p.count, p.p50, p.p99, p.max);
}

// The firmware's verification alone (the function AdminSetup and UpgradeClientToAdmin call), in this process:
// how much of those steps is checking signatures rather than transport and persisting the state.
bench::Percentiles timeVerification(const test::ProvisioningPki& pki, const std::vector<Bytes>& chain,
                                    const std::string& dnsSuffix) {
  platform::ProvisioningRequest request;
  request.chain = chain;
  request.configurationNonce = Bytes(20, 0x43);
  request.mcNonce = Bytes(20, 0x4D);
  request.signature = test::signMessage(pki.leafKey, test::concat(request.configurationNonce, request.mcNonce));
  platform::ProvisioningTrust trust;
  platform::CertHashEntry root;
  root.hash = test::digestOf(test::derOf(pki.root), EVP_sha256());
  root.isActive = true;
  trust.hashes = {root};
  trust.dnsSuffixes = {dnsSuffix};
  trust.now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<double> ms;
  for (int i = -20; i < 200; ++i) {  // the first 20 warm OpenSSL up
    const auto start = Clock::now();
    const auto verdict = platform::verifyProvisioning(request, trust);
    if (i >= 0) ms.push_back(msSince(start));
    if (!verdict.ok()) throw Failure(std::string("in-process verification failed: ") + verdict.detail);
  }
  return bench::percentiles(ms);
}

int runBench(const Options& options, bool preloaded) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::printf("Activation through the LMS path, %d rounds per flow (+1 warm-up), %d Gets per round per path\n",
              options.rounds, options.getsPerRound);
  auto clock = Clock::now();
  // The leaf's domain is set once the device's suffix is known; the root and its hash are what the daemon needs.
  test::ProvisioningPki pki = test::ProvisioningPki::make(now, "provision.example.com", options.rsaBits);
  std::printf("PKI: RSA-%u root CA -> RSA-%u intermediate -> RSA-%u provisioning leaf, made in %.0f ms\n",
              static_cast<unsigned>(EVP_PKEY_get_bits(pki.rootKey.get())),
              static_cast<unsigned>(EVP_PKEY_get_bits(pki.intermediateKey.get())),
              static_cast<unsigned>(EVP_PKEY_get_bits(pki.leafKey.get())), msSince(clock));
  const Bytes rootHash = test::digestOf(test::derOf(pki.root), EVP_sha256());

  test::DaemonProcess daemon;
  const std::vector<std::string> args{"--fuse", preloaded ? "off" : "on", "--preload", preloaded ? "on" : "off",
                                      "--provisioning", "pre", "--admin-password", kFactoryPassword,
                                      "--trusted-root-hash", text::toHex(rootHash)};
  if (!daemon.start(args)) {
    std::fprintf(stderr, "the daemon did not start:\n%s\n", daemon.log().c_str());
    return 1;
  }
  struct statfs fs {};
  const bool stateInMemory = ::statfs(daemon.stateDir().c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  std::printf("State dir: %s (%s)\n", daemon.stateDir().c_str(),
              stateInMemory ? "tmpfs: persisting a change costs no disk flush"
                            : "on disk: every state change is flushed, file and directory; TMPDIR=/dev/shm shows "
                              "the cost without");
  std::string meiDevice = daemon.meiDevice().string();
  if (preloaded) {
    meiDevice = "/dev/mei0";  // what libmesim-preload.so takes over
    ::setenv("MESIM_PRELOAD_SOCKET", (daemon.runtimeDir() / "preload.sock").c_str(), 1);
    std::printf("MEI path: libmesim-preload.so (LD_PRELOAD, the daemon's preload.sock), %s\n",
                std::string(std::getenv(kPreloadedMarker)) == "asked" ? "as --mei preload asked"
                                                                       : "as /dev/fuse is not usable here");
  } else {
    std::printf("MEI path: the daemon's FUSE dev/mei0\n");
  }

  int status = 0;
  try {
    test::LmsHost host([&] { return std::make_unique<test::FdMeiTransport>(meiDevice); });
    if (const int err = host.start(); err != 0)
      throw Failure("the LMS-like host cannot connect to LME over " + meiDevice + ": errno " + std::to_string(err));
    Agent agent(meiDevice, host.localPort(16992));
    if (agent.lmsPort() == 0) throw Failure("the LMS-like host opened no local port for 16992");
    std::printf("LMS: the threaded LMS-like APF host (window 1024, as LMS) forwarding 127.0.0.1:%u to the ME's 16992\n",
                agent.lmsPort());

    // Pre-provisioning (whether the test root is trusted, the first certificate round says: a refusal aborts it),
    // and the suffix the leaf's domain must match.
    const std::string initial = daemon.get("/provisioning");
    if (initial.find("\"state\":\"pre\"") == std::string::npos)
      throw Failure("not pre-provisioning at start: " + initial);
    const auto pkiSuffix = amthi::decodeAnsiString(agent.amthi(Command::GetPkiFqdnSuffix)).value_or("");
    const auto dnsSuffixes =
        amthi::decodeDnsSuffixList(agent.amthi(Command::GetDnsSuffixList)).value_or(std::vector<std::string>{});
    const std::string suffix = !pkiSuffix.empty() ? pkiSuffix : dnsSuffixes.empty() ? "" : dnsSuffixes.front();
    if (suffix.empty()) throw Failure("the device has neither a PKI DNS suffix nor a DNS suffix to match a leaf against");
    const std::string leafDomain = "provision." + suffix;
    pki.leaf = pki.issueLeaf(test::ProvisioningPki::leafSpec(now, leafDomain));
    std::printf("Leaf: CN %s, EKU 2.16.840.1.113741.1.2.3; matched against %s '%s' (AMTHI GetPKIFQDNSuffix %s)\n",
                leafDomain.c_str(), pkiSuffix.empty() ? "the DNS suffix" : "the PKI DNS suffix", suffix.c_str(),
                pkiSuffix.empty() ? "is empty, so the firmware falls back to GetDNSSuffixList" : "is set");

    FlowRunner runner{daemon, agent, pki, pki.chain()};
    std::vector<FlowResult> flows{
        {"a) pre -> CCM (host-based Setup)", "ccm", {}, 0, 0},
        {"b) pre -> CCM -> ACM (UpgradeClientToAdmin)", "acm", {}, 0, 0},
        {"c) pre -> ACM (AddNextCertInChain + AdminSetup)", "acm", {}, 0, 0},
    };
    const Flow kinds[] = {Flow::HostBasedToCcm, Flow::PreToCcmToAcm, Flow::PreToAcm};
    GetSamples lmsGets, networkGets;
    // Interleaved, so that whatever else the machine does touches every flow and the Gets alike.
    for (int round = 0; round <= options.rounds; ++round) {
      const bool warmUp = round == 0;
      for (std::size_t f = 0; f < flows.size(); ++f) {
        try {
          agent.amthiCalls = agent.wsmanRequests = 0;
          Round r = runner.run(kinds[f]);
          runner.confirm(flows[f].controlMode);
          flows[f].wsmanRequests = agent.wsmanRequests;
          flows[f].amthiCalls = agent.amthiCalls;
          if (!warmUp) flows[f].rounds.push_back(std::move(r));
        } catch (const Failure& e) {
          throw Failure("round " + std::to_string(round) + (warmUp ? " (warm-up)" : "") + " of " + flows[f].name +
                        ": " + e.what());
        }
      }
      // The device is in admin control mode now, the console's password the admin's.
      GetSamples& lms = lmsGets;
      GetSamples& network = networkGets;
      GetSamples discard;
      sampleGets(agent, daemon.httpPort(), options.getsPerRound, warmUp ? discard : lms, warmUp ? discard : network);
    }

    const auto lmsGet = bench::percentiles(lmsGets.keepAliveUs);
    const auto networkGet = bench::percentiles(networkGets.keepAliveUs);
    printFlows(flows, lmsGet, networkGet);
    printGets({{"LMS path, keep-alive, OS admin (the ratio's reference)", lmsGet},
               {"network port 16992 (TCP), keep-alive, admin", networkGet},
               {"LMS path, new connection each (connect, 401, reconnect, Get)",
                bench::percentiles(lmsGets.newConnectionUs)},
               {"network port, new connection each (connect, 401, reconnect, Get)", bench::percentiles(networkGets.newConnectionUs)}});

    std::vector<double> signing;
    for (const auto& f : flows)
      for (const auto& r : f.rounds)
        if (r.clientMs > 0) signing.push_back(r.clientMs);
    const auto sign = bench::percentiles(signing);
    const auto verify = timeVerification(pki, runner.chain, suffix);
    std::printf("\nSigning: the agent's RSA-%u PKCS#1 v1.5 SHA-256 signature over ConfigurationNonce || McNonce (40 bytes):\n"
                "  p50 %.3f ms, max %.3f ms over %zu rounds; left out of the activation times above (the agent's cost).\n",
                static_cast<unsigned>(EVP_PKEY_get_bits(pki.leafKey.get())), sign.p50, sign.max, sign.count);
    std::printf("Firmware verification alone (platform::verifyProvisioning in this process: %zu-certificate chain,\n"
                "  root hash, dates, purpose, domain, nonce signature): p50 %.3f ms, p99 %.3f ms; the rest of AdminSetup\n"
                "  and UpgradeClientToAdmin is transport and persisting the state.\n",
                runner.chain.size(), verify.p50, verify.p99);
    host.stop();
  } catch (const Failure& e) {
    const std::string log = daemon.log();
    std::fprintf(stderr, "\nABORTED: %s\n\ndaemon log (its end):\n%s\n", e.what(),
                 log.substr(log.size() > 8000 ? log.size() - 8000 : 0).c_str());
    status = 1;
  }
  daemon.stop();
  std::error_code ignored;
  std::filesystem::remove_all(daemon.stateDir(), ignored);
  std::filesystem::remove_all(daemon.runtimeDir(), ignored);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse(argc, argv, options)) {
    std::fprintf(stderr, "usage: %s [rounds (50)] [gets per round (40)] [--rsa-bits B (2048)] [--mei fuse|preload]\n",
                 argv[0]);
    return 2;
  }
  const bool preloaded = std::getenv(kPreloadedMarker) != nullptr;
  if (preloaded) {
    ::unsetenv("LD_PRELOAD");  // loaded in this process; the daemon must not inherit it
  } else if (options.mei == "preload" || (options.mei.empty() && ::access("/dev/fuse", R_OK | W_OK) != 0)) {
    return reexecWithPreload(argv, options.mei == "preload");
  }
  return runBench(options, preloaded);
}
