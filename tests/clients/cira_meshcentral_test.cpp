// MeshCentral as the real MPS (spec/cira.md). The fixture (tests/support/meshcentral_mps.h) checked with the
// reference CIRA client (cira_reference_client.js), which does admission and keep-alives and serves nothing; then
// mesim's own CIRA client (issue 15 item 2): configured over WS-Man as a console does, online in MeshCentral, managed
// through the tunnel (MeshCentral's WS-Man sequence, a power action), back after an MPS restart, and the failures
// (MPS certificate, password, MPS down) seen in /status and the log. Without MeshCentral's npm package or node, the
// tests skip and say why.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "common/text_codecs.h"
#include "tests/support/daemon_process.h"
#include "tests/support/meshcentral_mps.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_digest_client.h"

namespace mesim::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kClientsDir = MESIM_CLIENTS_DIR;

long number(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_number() ? static_cast<long>(v->to_number<double>()) : -1;
}

std::string text(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool allCiraConnected(const std::vector<MpsDevice>& devices, const std::set<std::string>& ids) {
  std::set<std::string> online;
  for (const auto& d : devices)
    if (d.ciraConnected()) online.insert(d.id);
  return std::includes(online.begin(), online.end(), ids.begin(), ids.end());
}

class CiraMeshCentralFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = MeshCentralMps::unavailableReason(kClientsDir); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(mps_.start()) << mps_.error() << "\n" << mps_.log();
    auto group = mps_.createAmtGroup("cira-reference");
    ASSERT_TRUE(group) << mps_.error();
    group_ = *group;
  }

  MeshCentralMps mps_{kClientsDir};
  MpsGroup group_;
};

// Five reference devices are admitted over TLS (root and CN checked), MeshCentral shows them online via CIRA
// (conn bit 2) under the node ids spec/cira.md §2 derives from their UUIDs, its console lists them, and after a
// restart on the same data folder they come back as the same devices.
TEST_F(CiraMeshCentralFixture, ReferenceDevicesComeOnline) {
  EXPECT_EQ(group_.id.rfind("mesh//", 0), 0u) << group_.id;
  EXPECT_EQ(group_.id.size(), 6u + 64u) << group_.id;
  ASSERT_EQ(group_.ciraUser.size(), 16u);
  EXPECT_EQ(group_.ciraUser.find_first_of("@$"), std::string::npos);
  EXPECT_EQ(mps_.mpsCertificateCn(), mps_.options().certName);
  EXPECT_NE(mps_.rootCertificatePem().find("BEGIN CERTIFICATE"), std::string::npos);

  CiraReferenceFleet fleet(kClientsDir, mps_.workDir() / "reference.jsonl");
  CiraReferenceFleet::Options options;
  options.count = 5;
  ASSERT_TRUE(fleet.start(mps_, group_.ciraUser, options));
  auto admitted = fleet.waitAdmitted();
  ASSERT_TRUE(admitted) << fleet.output();
  EXPECT_EQ(number(*admitted, "admitted"), 5) << fleet.output();
  // The certificate the MPS presented is mpsserver-cert-public.crt, and it verified against root-cert-public.crt.
  EXPECT_EQ(text(*admitted, "mpsCertSha256"), mps_.mpsCertificateSha256());

  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.insert(meshCentralNodeId(fleet.uuid(i)));
  auto devices = mps_.waitForDevices([&](const auto& list) { return allCiraConnected(list, ids); }, 20s);
  ASSERT_TRUE(devices) << mps_.error();
  ASSERT_TRUE(allCiraConnected(*devices, ids)) << mps_.log();
  for (const auto& d : *devices) EXPECT_EQ(d.meshId, group_.id) << d.id;

  auto connections = mps_.console("mps");
  ASSERT_TRUE(connections) << mps_.error();
  for (const auto& id : ids) EXPECT_NE(connections->find(id + ", CIRA"), std::string::npos) << *connections;
  EXPECT_EQ(mps_.mpsStat("addedDeviceCount"), 5);
  EXPECT_EQ(mps_.mpsStat("incorrectPasswordCount"), 0);
  EXPECT_GE(mps_.mpsStat("userAuthRequestCount"), 5);

  // A restart closes the tunnels; the devices come back under the same ids, none added.
  ASSERT_TRUE(mps_.restart()) << mps_.error();
  auto done = fleet.stop();
  ASSERT_TRUE(done) << fleet.output();
  EXPECT_EQ(number(*done, "closedByPeer"), 5) << fleet.output();
  EXPECT_EQ(number(*done, "keepaliveOptionsRequests"), 5) << "one KEEPALIVE_OPTIONS_REQUEST after each forward of 5900";
  auto offline = mps_.listDevices();
  ASSERT_TRUE(offline) << mps_.error();
  EXPECT_EQ(offline->size(), 5u);
  for (const auto& d : *offline) EXPECT_FALSE(d.ciraConnected()) << d.id;

  CiraReferenceFleet again(kClientsDir, mps_.workDir() / "reference-again.jsonl");
  ASSERT_TRUE(again.start(mps_, group_.ciraUser, options));
  auto readmitted = again.waitAdmitted();
  ASSERT_TRUE(readmitted) << again.output();
  EXPECT_EQ(number(*readmitted, "admitted"), 5) << again.output();
  devices = mps_.waitForDevices([&](const auto& list) { return allCiraConnected(list, ids); }, 20s);
  ASSERT_TRUE(devices && allCiraConnected(*devices, ids)) << mps_.log();
  EXPECT_EQ(devices->size(), 5u);
  EXPECT_EQ(mps_.mpsStat("addedDeviceCount"), 0) << "counters start again at a restart; known devices are not added";
  again.stop();
}

// What MeshCentral refuses (spec/cira.md §2.3): a wrong MPS password and a user name that is no group's prefix
// each get USERAUTH_FAILURE and a close, and count in mpsstats.
TEST_F(CiraMeshCentralFixture, ReferenceDevicesRefused) {
  CiraReferenceFleet wrongPassword(kClientsDir, mps_.workDir() / "wrong-password.jsonl");
  CiraReferenceFleet::Options options;
  options.timeoutS = 20;
  ASSERT_TRUE(wrongPassword.start(mps_, group_.ciraUser, "not-the-password", options));
  auto result = wrongPassword.waitAdmitted();
  ASSERT_TRUE(result) << wrongPassword.output();
  EXPECT_EQ(number(*result, "admitted"), 0);
  EXPECT_NE(wrongPassword.output().find("USERAUTH_FAILURE"), std::string::npos) << wrongPassword.output();
  EXPECT_EQ(mps_.mpsStat("incorrectPasswordCount"), 1);

  std::string otherUser = group_.ciraUser;
  otherUser[0] = otherUser[0] == 'A' ? 'B' : 'A';
  CiraReferenceFleet unknownGroup(kClientsDir, mps_.workDir() / "unknown-group.jsonl");
  ASSERT_TRUE(unknownGroup.start(mps_, otherUser, options));
  result = unknownGroup.waitAdmitted();
  ASSERT_TRUE(result) << unknownGroup.output();
  EXPECT_EQ(number(*result, "admitted"), 0);
  EXPECT_NE(unknownGroup.output().find("USERAUTH_FAILURE"), std::string::npos) << unknownGroup.output();
  EXPECT_EQ(mps_.mpsStat("meshNotFoundCount"), 1);

  auto devices = mps_.listDevices();
  ASSERT_TRUE(devices) << mps_.error();
  EXPECT_TRUE(devices->empty());
}

// --- mesim's CIRA client against MeshCentral -----------------------------------------------------------------------

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";

std::string tagText(const std::string& xml, const std::string& local) {
  const auto open = xml.find(":" + local + ">");
  if (open == std::string::npos) return "<none>";
  const auto start = open + local.size() + 2;
  return xml.substr(start, xml.find('<', start) - start);
}

// The base64 DER of the first certificate of a PEM text: its body without the armour lines.
std::string pemToBase64Der(const std::string& pem) {
  const auto begin = pem.find("-----BEGIN CERTIFICATE-----");
  const auto end = pem.find("-----END CERTIFICATE-----");
  if (begin == std::string::npos || end == std::string::npos) return "";
  std::string out;
  for (char c : pem.substr(begin + 27, end - begin - 27))
    if (c != '\r' && c != '\n') out += c;
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// True when `text` holds one of `words`, case-insensitively.
bool mentions(const std::string& text, const std::vector<std::string>& words) {
  const auto l = lower(text);
  return std::any_of(words.begin(), words.end(), [&](const std::string& w) { return l.find(lower(w)) != std::string::npos; });
}

// The log lines that mention CIRA or the MPS.
std::string ciraLines(const std::string& log) {
  std::istringstream lines(log);
  std::string out;
  for (std::string line; std::getline(lines, line);)
    if (mentions(line, {"cira", "mps"})) out += line + "\n";
  return out;
}

// The `cira` object of a device's GET /status, or null when there is none (no CIRA client in this build).
std::optional<boost::json::object> ciraStatus(DaemonProcess& daemon) {
  const auto answer = daemon.get("/status");
  if (answer.rfind("200 ", 0) != 0) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(answer.substr(4), ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto* cira = value.as_object().if_contains("cira");
  if (!cira || !cira->is_object()) return std::nullopt;
  return cira->as_object();
}

// Polls /status until the cira object satisfies `done`; returns the last one seen.
boost::json::object waitForCira(DaemonProcess& daemon, const std::function<bool(const boost::json::object&)>& done,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::json::object last;
  for (;;) {
    if (auto cira = ciraStatus(daemon)) {
      last = *cira;
      if (done(last)) return last;
    }
    if (std::chrono::steady_clock::now() >= deadline) return last;
    std::this_thread::sleep_for(100ms);
  }
}

std::string deviceUuid(DaemonProcess& daemon) {
  boost::system::error_code ec;
  auto value = boost::json::parse(mps_detail::readText(daemon.stateDir() / "platform.json"), ec);
  if (ec || !value.is_object()) return "";
  const auto* identity = value.as_object().if_contains("identity");
  return identity && identity->is_object() ? text(identity->as_object(), "uuid") : "";
}

int hostPowerState(DaemonProcess& daemon) {
  const auto answer = daemon.get("/host");
  if (answer.rfind("200 ", 0) != 0) return -1;
  boost::system::error_code ec;
  auto value = boost::json::parse(answer.substr(4), ec);
  return ec || !value.is_object() ? -1 : static_cast<int>(number(value.as_object(), "power_state"));
}

const MpsDevice* findDevice(const std::vector<MpsDevice>& devices, const std::string& id) {
  for (const auto& d : devices)
    if (d.id == id) return &d;
  return nullptr;
}

class CiraMesimFixture : public CiraMeshCentralFixture {
 protected:
  void SetUp() override {
    if (mesimHelp().find("--cira-mps") == std::string::npos)
      GTEST_SKIP() << "this mesim has no CIRA client yet (`mesim --help` names no --cira-mps; issue 15 item 1)";
    CiraMeshCentralFixture::SetUp();
  }
  static std::string mesimHelp() {
    const fs::path out = fs::temp_directory_path() / ("mesim-cira-help-" + std::to_string(::getpid()) + ".txt");
    runToFile({mesimBinary().string(), "--help"}, out, 10s);
    auto help = mps_detail::readText(out);
    fs::remove(out);
    return help;
  }

  // A device provisioned in admin control mode whose admin login is the one MeshCentral's amtManager tries.
  void startDevice(DaemonProcess& daemon, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--fuse", "off", "--provisioning", "acm", "--admin-password",
                                  mps_.options().amtPassword};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(daemon.start(args)) << daemon.log();
    if (!ciraStatus(daemon)) GTEST_SKIP() << "this mesim has no CIRA client yet (no `cira` in /status; issue 15 item 1)";
  }

  std::string invoke(DaemonProcess& daemon, const std::string& cls, const std::string& method, const std::string& params) {
    const std::string uri = kAmt + cls;
    WsmanDigestClient client(daemon.httpPort(), "admin", mps_.options().amtPassword);
    auto answer = client.post(wsmanEnvelope(uri + "/" + method, uri,
                                            "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + params + "</h:" +
                                                method + "_INPUT>"));
    EXPECT_EQ(answer.status, 200u) << method << ": " << answer.body << answer.error;
    return answer.body;
  }

  // What a console sends to point a device at an MPS (apf.md §3, docs/remote-access.md, docs/cira.md): the MPS
  // root as a trusted root, the server with its CN and login, a periodic rule (TunnelLifeTime 0: stay connected)
  // and a detection string, so that the device is outside its enterprise.
  void configureCiraOverWsman(DaemonProcess& daemon, std::uint32_t periodSeconds = 30) {
    const auto added = invoke(daemon, "AMT_PublicKeyManagementService", "AddTrustedRootCertificate",
                              "<h:CertificateBlob>" + pemToBase64Der(mps_.rootCertificatePem()) + "</h:CertificateBlob>");
    ASSERT_EQ(tagText(added, "ReturnValue"), "0") << added;
    const auto server = invoke(daemon, "AMT_RemoteAccessService", "AddMpServer",
                               "<h:AccessInfo>127.0.0.1</h:AccessInfo><h:InfoFormat>3</h:InfoFormat><h:Port>" +
                                   std::to_string(mps_.mpsPort()) + "</h:Port><h:AuthMethod>2</h:AuthMethod>"
                                   "<h:Username>" + group_.ciraUser + "</h:Username><h:Password>" +
                                   mps_.mpsPassword() + "</h:Password><h:CN>" + mps_.mpsCertificateCn() + "</h:CN>");
    ASSERT_EQ(tagText(server, "ReturnValue"), "0") << server;
    // The answer's MpServer names the AMT_ManagementPresenceRemoteSAP; the rule refers to it by that name.
    const std::string nameSelector = "Selector Name=\"Name\">";
    const auto nameAt = server.find(nameSelector);
    ASSERT_NE(nameAt, std::string::npos) << server;
    const auto nameStart = nameAt + nameSelector.size();
    const std::string sapName = server.substr(nameStart, server.find('<', nameStart) - nameStart);
    auto selector = [](const std::string& name, const std::string& value) {
      return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
    };
    const std::string sapRef = "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + kAmt +
                               "AMT_ManagementPresenceRemoteSAP</w:ResourceURI><w:SelectorSet>" +
                               selector("CreationClassName", "AMT_ManagementPresenceRemoteSAP") +
                               selector("Name", sapName) + selector("SystemCreationClassName", "CIM_ComputerSystem") +
                               selector("SystemName", "Intel(r) AMT") + "</w:SelectorSet></a:ReferenceParameters>";
    std::vector<std::uint8_t> period{0, 0, 0, 0, static_cast<std::uint8_t>(periodSeconds >> 24),
                                     static_cast<std::uint8_t>(periodSeconds >> 16),
                                     static_cast<std::uint8_t>(periodSeconds >> 8),
                                     static_cast<std::uint8_t>(periodSeconds)};
    const auto rule = invoke(daemon, "AMT_RemoteAccessService", "AddRemoteAccessPolicyRule",
                             "<h:Trigger>2</h:Trigger><h:TunnelLifeTime>0</h:TunnelLifeTime><h:ExtendedData>" +
                                 mesim::text::base64Encode(period) + "</h:ExtendedData><h:MpServer>" + sapRef +
                                 "</h:MpServer>");
    ASSERT_EQ(tagText(rule, "ReturnValue"), "0") << rule;
    // MpServer is called from outside the enterprise only, and with no detection string AMT is at home: like
    // MeshCentral's AMT manager, set one the device does not match (docs/cira.md "Environment detection").
    const std::string env = kAmt + "AMT_EnvironmentDetectionSettingData";
    const std::string id = "Intel(r) AMT Environment Detection Settings";
    WsmanDigestClient client(daemon.httpPort(), "admin", mps_.options().amtPassword);
    auto put = client.post(wsmanEnvelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", env,
        "<h:AMT_EnvironmentDetectionSettingData xmlns:h=\"" + env + "\"><h:DetectionAlgorithm>0</h:DetectionAlgorithm>"
        "<h:DetectionStrings>f3a1c2.mesim-cira.invalid</h:DetectionStrings><h:ElementName>" + id + "</h:ElementName>"
        "<h:InstanceID>" + id + "</h:InstanceID></h:AMT_EnvironmentDetectionSettingData>",
        "1", "<w:Selector Name=\"InstanceID\">" + id + "</w:Selector>"));
    ASSERT_EQ(put.status, 200u) << put.body << put.error;
  }

  // The `--cira-*` options that preconfigure the same at a first start.
  std::vector<std::string> ciraOptions(const std::string& user, const std::string& password,
                                       const fs::path& root, const std::string& cn, std::uint16_t port = 0) {
    return {"--cira-mps", "127.0.0.1:" + std::to_string(port ? port : mps_.mpsPort()), "--cira-user", user,
            "--cira-password", password, "--cira-root", root.string(), "--cira-cn", cn};
  }
};

// The whole path as issue 15 item 2 asks: configured over WS-Man, the device dials MeshCentral, is admitted into
// the AMT-only group under the node id of its UUID, and MeshCentral runs its WS-Man sequence through the tunnel
// (intelamt.ver is set from the Server header of its answers). A power-off from MeshCentral (meshctrl DevicePower
// --amtoff: RequestPowerStateChange 8 through the tunnel) turns the host off. After MeshCentral restarts, the
// device reconnects by itself.
TEST_F(CiraMesimFixture, OnlineManagedPoweredOffAndBackAfterMpsRestart) {
  DaemonProcess daemon;
  startDevice(daemon);
  if (IsSkipped() || HasFatalFailure()) return;
  configureCiraOverWsman(daemon);
  if (HasFatalFailure()) return;
  const std::string uuid = deviceUuid(daemon);
  ASSERT_EQ(uuid.size(), 36u) << "no identity.uuid in platform.json";
  const std::string nodeId = meshCentralNodeId(uuid);

  auto cira = waitForCira(daemon, [](const auto& c) { return text(c, "state") == "connected"; }, 60s);
  ASSERT_EQ(text(cira, "state"), "connected") << boost::json::serialize(cira) << "\n" << ciraLines(daemon.log());
  EXPECT_EQ(text(cira, "mps"), "127.0.0.1:" + std::to_string(mps_.mpsPort()));
  // At least one: a first attempt that fails (an MPS busy at its start, say) is retried.
  EXPECT_GE(number(cira, "connects"), 1);

  auto devices = mps_.waitForDevices([&](const auto& list) {
    const auto* d = findDevice(list, nodeId);
    return d && d->ciraConnected() && !d->amtVersion.empty();
  }, 60s, 500ms);
  ASSERT_TRUE(devices) << mps_.error();
  const auto* device = findDevice(*devices, nodeId);
  ASSERT_NE(device, nullptr) << "MeshCentral lists no " << nodeId << "\n" << mps_.log();
  EXPECT_TRUE(device->ciraConnected()) << device->conn;
  EXPECT_FALSE(device->amtVersion.empty()) << "MeshCentral's WS-Man sequence did not finish\n" << mps_.log();
  EXPECT_EQ(device->meshId, group_.id);
  auto connections = mps_.console("mps");
  ASSERT_TRUE(connections) << mps_.error();
  EXPECT_NE(connections->find(nodeId + ", CIRA"), std::string::npos) << *connections;

  ASSERT_EQ(hostPowerState(daemon), 2);
  ASSERT_TRUE(mps_.devicePower(nodeId, "amtoff")) << mps_.error();
  const auto offBy = std::chrono::steady_clock::now() + 30s;
  while (hostPowerState(daemon) != 8 && std::chrono::steady_clock::now() < offBy) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(hostPowerState(daemon), 8) << mps_.log();
  EXPECT_NE(mps_.log().find("performPowerAction"), std::string::npos);

  const long connectsBefore = number(*ciraStatus(daemon), "connects");
  ASSERT_TRUE(mps_.restart()) << mps_.error();
  cira = waitForCira(daemon, [&](const auto& c) {
    return number(c, "connects") > connectsBefore && text(c, "state") == "connected";
  }, 90s);
  EXPECT_GT(number(cira, "connects"), connectsBefore) << boost::json::serialize(cira) << "\n" << ciraLines(daemon.log());
  EXPECT_GE(number(cira, "drops"), 1) << "the restart ended a tunnel that was up";
  devices = mps_.waitForDevices([&](const auto& list) {
    const auto* d = findDevice(list, nodeId);
    return d && d->ciraConnected();
  }, 60s, 500ms);
  ASSERT_TRUE(devices) << mps_.error();
  device = findDevice(*devices, nodeId);
  ASSERT_NE(device, nullptr);
  EXPECT_TRUE(device->ciraConnected()) << "not back after the MPS restart\n" << ciraLines(daemon.log());
  EXPECT_EQ(daemon.get("/healthz").substr(0, 3), "200");
}

// What goes wrong, each on a device of its own preconfigured by the --cira-* options, next to one that is right:
// an MPS certificate not issued by the trusted root, a CN that is not the MPS's, a wrong MPS password (USERAUTH
// failure) and an MPS that is down (connection refused). Each is in /status cira.last_error and in a log line, and
// the daemon goes on answering; MeshCentral admits only the right one.
TEST_F(CiraMesimFixture, FailuresShowInStatusAndLog) {
  const auto work = mps_.workDir();
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  Pkey otherKey = makeRsaKey(2048);
  CertSpec spec;
  spec.commonName = "not the MPS's root";
  spec.isCa = true;
  spec.notBefore = now - 86400;
  spec.notAfter = now + 86400;
  const Cert otherRoot = makeCert(spec, otherKey, nullptr, otherKey);
  const fs::path otherRootPath = work / "other-root.pem";
  {
    BIO* bio = BIO_new_file(otherRootPath.c_str(), "w");
    ASSERT_NE(bio, nullptr);
    PEM_write_bio_X509(bio, otherRoot.get());
    BIO_free(bio);
  }
  const auto root = mps_.rootCertificatePath();
  const auto cn = mps_.mpsCertificateCn();
  const std::uint16_t closedPort = test::freeLoopbackPort();

  struct Case {
    const char* what;
    std::vector<std::string> options;
    std::vector<std::string> words;     // one of them in last_error and in a log line
    std::vector<std::string> notWords;  // the other TLS failure's words: each case names its own cause
  };
  const std::vector<std::string> untrusted{"issuer", "untrusted root"}, mismatch{"hostname mismatch", "CN mismatch"};
  std::vector<Case> cases{
      {"untrusted root", ciraOptions(group_.ciraUser, mps_.mpsPassword(), otherRootPath, cn), untrusted, mismatch},
      {"CN mismatch", ciraOptions(group_.ciraUser, mps_.mpsPassword(), root, "wrong.mesim.test"), mismatch, untrusted},
      {"wrong password", ciraOptions(group_.ciraUser, "not-the-password", root, cn), {"USERAUTH"}, {}},
      {"MPS down", ciraOptions(group_.ciraUser, mps_.mpsPassword(), root, cn, closedPort), {"refused"}, {}},
  };
  DaemonProcess good;
  startDevice(good, ciraOptions(group_.ciraUser, mps_.mpsPassword(), root, cn));
  if (IsSkipped() || HasFatalFailure()) return;
  std::vector<std::unique_ptr<DaemonProcess>> daemons;
  for (const auto& c : cases) {
    daemons.push_back(std::make_unique<DaemonProcess>());
    startDevice(*daemons.back(), c.options);
    ASSERT_FALSE(HasFatalFailure()) << c.what;
  }

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].what);
    auto& daemon = *daemons[i];
    const auto cira = waitForCira(daemon, [](const auto& c) { return number(c, "failures") >= 1; }, 30s);
    EXPECT_GE(number(cira, "failures"), 1) << boost::json::serialize(cira);
    EXPECT_NE(text(cira, "state"), "connected");
    EXPECT_EQ(number(cira, "connects"), 0);
    std::cout << cases[i].what << ": " << text(cira, "last_error") << "\n";
    EXPECT_TRUE(mentions(text(cira, "last_error"), cases[i].words)) << text(cira, "last_error");
    if (!cases[i].notWords.empty()) {
      EXPECT_FALSE(mentions(text(cira, "last_error"), cases[i].notWords)) << text(cira, "last_error");
    }
    EXPECT_TRUE(mentions(ciraLines(daemon.log()), cases[i].words)) << ciraLines(daemon.log());
    EXPECT_EQ(daemon.get("/healthz").substr(0, 3), "200");
  }

  const auto goodCira = waitForCira(good, [](const auto& c) { return text(c, "state") == "connected"; }, 60s);
  EXPECT_EQ(text(goodCira, "state"), "connected") << ciraLines(good.log());
  const std::string goodId = meshCentralNodeId(deviceUuid(good));
  auto devices = mps_.waitForDevices([&](const auto& list) {
    const auto* d = findDevice(list, goodId);
    return d && d->ciraConnected();
  }, 30s, 500ms);
  ASSERT_TRUE(devices) << mps_.error();
  EXPECT_EQ(devices->size(), 1u) << "only the right device is admitted";
  EXPECT_NE(findDevice(*devices, goodId), nullptr);
  EXPECT_GE(mps_.mpsStat("incorrectPasswordCount"), 1);
}

}  // namespace
}  // namespace mesim::test
