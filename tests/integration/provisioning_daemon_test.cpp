// A Local Agent's first steps against the real daemon, driven as rpc-go and MeshCentral's agent drive them: AMTHI
// over the FUSE dev/mei0 (GetLocalSystemAccount, the trusted root hashes), then WS-Man through the LMS path (APF
// over LME) with the OS admin account. The account works there, in AMT's realm, and is refused from the network;
// AMT_ProvisioningCertificateHash over WS-Man is AMTHI's hash list and survives a restart.
#include <gtest/gtest.h>
#include <linux/mei.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <regex>

#include "tests/support/amthi_call.h"
#include "tests/support/daemon_process.h"
#include "tests/support/lms_host.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kHashUri = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_ProvisioningCertificateHash";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnumeration = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

std::string between(const std::string& text, const std::string& open, const std::string& close, std::size_t from = 0) {
  const auto a = text.find(open, from);
  if (a == std::string::npos) return {};
  const auto b = text.find(close, a + open.size());
  return b == std::string::npos ? std::string() : text.substr(a + open.size(), b - a - open.size());
}

std::vector<std::string> instanceIds(const std::string& pullBody) {
  std::vector<std::string> ids;
  static const std::regex id("<[a-zA-Z0-9]+:InstanceID>([^<]*)</");
  for (auto it = std::sregex_iterator(pullBody.begin(), pullBody.end(), id); it != std::sregex_iterator(); ++it)
    ids.push_back((*it)[1]);
  return ids;
}

class ProvisioningDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse here";
    ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  }
  void TearDown() override {
    if (host) host->stop();
    if (HasFailure()) std::cerr << daemon.log();
  }

  std::uint16_t startLms() {
    host = std::make_unique<LmsHost>([this] { return std::make_unique<FdMeiTransport>(daemon.meiDevice().string()); });
    if (host->start() != 0) return 0;
    return host->localPort(16992);
  }

  std::vector<std::string> enumerateHashes(WsmanDigestClient& client) {
    auto started = client.post(wsmanEnvelope(kEnumeration + "Enumerate", kHashUri,
                                             "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"/>"));
    EXPECT_EQ(started.status, 200u) << started.body;
    const std::string context = between(started.body, "EnumerationContext>", "</");
    auto pulled = client.post(wsmanEnvelope(kEnumeration + "Pull", kHashUri,
                                            "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                            "<EnumerationContext>" + context +
                                                "</EnumerationContext><MaxElements>99</MaxElements></Pull>"));
    EXPECT_EQ(pulled.status, 200u) << pulled.body;
    return instanceIds(pulled.body);
  }

  std::vector<std::uint32_t> amthiHashHandles() {
    Bytes r = amthiRequest(daemon.meiDevice().string(), 0x0400002C);
    if (r.size() < 20 || amthiU32At(r, 12) != 0) return {};
    std::vector<std::uint32_t> handles;
    for (std::uint32_t i = 0; i < amthiU32At(r, 16); ++i) handles.push_back(amthiU32At(r, 20 + 4 * i));
    return handles;
  }

  DaemonProcess daemon;
  std::unique_ptr<LmsHost> host;
};

TEST_F(ProvisioningDaemonTest, TheOsAdminAccountWorksThroughLmsAndIsRefusedFromTheNetwork) {
  // 1. GetLocalSystemAccount over dev/mei0: real firmware's 68 bytes.
  Bytes r = amthiRequest(daemon.meiDevice().string(), 0x04000067, Bytes(40, 0));
  ASSERT_EQ(r.size(), 12u + 4u + 68u) << "GetLocalSystemAccount answer";
  EXPECT_EQ(amthiU32At(r, 4), 0x04800067u);
  EXPECT_EQ(amthiU32At(r, 8), 72u);
  ASSERT_EQ(amthiU32At(r, 12), 0u);
  const std::string user(reinterpret_cast<const char*>(r.data() + 16));
  const std::string password(reinterpret_cast<const char*>(r.data() + 16 + 33));
  ASSERT_EQ(user.rfind("$$OsAdmin", 0), 0u) << user;
  ASSERT_EQ(password.size(), 32u);

  // 2. WS-Man through the LMS path with it: a Get succeeds, in AMT's realm (the client answered the challenge's).
  const std::uint16_t lmsPort = startLms();
  ASSERT_NE(lmsPort, 0) << daemon.log();
  WsmanDigestClient viaLms(lmsPort, user, password);
  auto local = viaLms.post(wsmanGetGeneralSettings());
  ASSERT_EQ(local.status, 200u) << local.error << local.body;
  const std::string realm = between(local.body, "DigestRealm>", "</");
  EXPECT_EQ(realm.rfind("Digest:", 0), 0u) << local.body;

  // 3. The same credentials from the network: 401, every time, and they do not lock the admin out.
  for (int i = 0; i < 12; ++i) {
    WsmanDigestClient viaNetwork(daemon.httpPort(), user, password);
    EXPECT_EQ(viaNetwork.post(wsmanGetGeneralSettings()).status, 401u) << "attempt " << i;
  }
  WsmanDigestClient admin(daemon.httpPort());
  auto adminGet = admin.post(wsmanGetGeneralSettings());
  ASSERT_EQ(adminGet.status, 200u) << adminGet.body;
  EXPECT_EQ(between(adminGet.body, "DigestRealm>", "</"), realm);
  // The host's own logins go on meanwhile.
  WsmanDigestClient again(lmsPort, user, password);
  EXPECT_EQ(again.post(wsmanGetGeneralSettings("2")).status, 200u);
}

TEST_F(ProvisioningDaemonTest, CertificateHashesOverWsmanAreAmthisListAndPersist) {
  const auto handles = amthiHashHandles();
  ASSERT_GE(handles.size(), 7u);
  WsmanDigestClient admin(daemon.httpPort());
  auto ids = enumerateHashes(admin);
  ASSERT_EQ(ids.size(), handles.size());
  for (std::size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ids[i], "Intel(r) AMT Certificate Hash " + std::to_string(handles[i]));

  // A console adds its own root's SHA-256 hash.
  const std::string hash = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";  // bytes 0..31
  auto created = admin.post(wsmanEnvelope(
      kTransfer + "Create", kHashUri,
      "<h:AMT_ProvisioningCertificateHash xmlns:h=\"" + kHashUri +
          "\"><h:Description>lab root</h:Description><h:HashData>" + hash +
          "</h:HashData><h:HashType>2</h:HashType></h:AMT_ProvisioningCertificateHash>"));
  ASSERT_EQ(created.status, 200u) << created.body;
  const std::string createdId = between(created.body, "Name=\"InstanceID\">", "</");
  ASSERT_FALSE(createdId.empty()) << created.body;

  // AMTHI sees it: one handle more, not a default, the same bytes.
  const auto after = amthiHashHandles();
  ASSERT_EQ(after.size(), handles.size() + 1);
  Bytes payload{static_cast<std::uint8_t>(after.back()), static_cast<std::uint8_t>(after.back() >> 8), 0, 0};
  Bytes entry = amthiRequest(daemon.meiDevice().string(), 0x0400002D, payload);
  ASSERT_GE(entry.size(), 16u + 8u + 64u + 1u + 2u);
  EXPECT_EQ(amthiU32At(entry, 16), 0u);  // IsDefault
  EXPECT_EQ(amthiU32At(entry, 20), 1u);  // IsActive
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(entry[24 + i], i);
  EXPECT_EQ(entry[24 + 64], 2);  // SHA-256
  EXPECT_EQ(createdId, "Intel(r) AMT Certificate Hash " + std::to_string(after.back()));

  // A restart keeps it, and deleting a default is refused while deleting it works.
  ASSERT_EQ(daemon.stop(), 0);
  ASSERT_TRUE(daemon.start({"--fuse", "on"})) << daemon.log();
  WsmanDigestClient afterRestart(daemon.httpPort());
  auto got = afterRestart.post(wsmanEnvelope(kTransfer + "Get", kHashUri, "", "3",
                                             "<w:Selector Name=\"InstanceID\">" + createdId + "</w:Selector>"));
  ASSERT_EQ(got.status, 200u) << got.body;
  EXPECT_NE(got.body.find(hash), std::string::npos) << got.body;
  auto refused = afterRestart.post(wsmanEnvelope(kTransfer + "Delete", kHashUri, "", "4",
                                                 "<w:Selector Name=\"InstanceID\">" + ids.front() + "</w:Selector>"));
  EXPECT_EQ(refused.status, 400u) << refused.body;
  EXPECT_NE(refused.body.find("AccessDenied"), std::string::npos) << refused.body;
  auto deleted = afterRestart.post(wsmanEnvelope(kTransfer + "Delete", kHashUri, "", "5",
                                                 "<w:Selector Name=\"InstanceID\">" + createdId + "</w:Selector>"));
  EXPECT_EQ(deleted.status, 200u) << deleted.body;
  EXPECT_EQ(amthiHashHandles(), handles);
}

// The OS admin account's password changes when the host reboots (at most once a day), as on silicon: what an agent
// read before a reset no longer logs in through LMS, what it reads after does.
TEST_F(ProvisioningDaemonTest, TheOsAdminPasswordChangesWhenTheHostReboots) {
  auto account = [this] {
    Bytes r = amthiRequest(daemon.meiDevice().string(), 0x04000067, Bytes(40, 0));
    EXPECT_EQ(r.size(), 12u + 4u + 68u);
    if (r.size() < 12u + 4u + 68u) return std::pair<std::string, std::string>{};
    return std::pair<std::string, std::string>{reinterpret_cast<const char*>(r.data() + 16),
                                               reinterpret_cast<const char*>(r.data() + 16 + 33)};
  };
  const auto before = account();
  WsmanDigestClient admin(daemon.httpPort());
  auto reset = admin.post(wsmanRequestPowerStateChange(10));  // master bus reset
  ASSERT_EQ(reset.status, 200u) << reset.body;
  ASSERT_EQ(between(reset.body, "ReturnValue>", "</"), "0") << reset.body;
  const auto after = account();
  EXPECT_EQ(after.first, before.first);
  EXPECT_NE(after.second, before.second);

  const std::uint16_t lmsPort = startLms();
  ASSERT_NE(lmsPort, 0) << daemon.log();
  EXPECT_EQ(WsmanDigestClient(lmsPort, before.first, before.second).post(wsmanGetGeneralSettings()).status, 401u);
  EXPECT_EQ(WsmanDigestClient(lmsPort, after.first, after.second).post(wsmanGetGeneralSettings()).status, 200u);

  // Another reset the same day keeps it.
  ASSERT_EQ(between(admin.post(wsmanRequestPowerStateChange(10)).body, "ReturnValue>", "</"), "0");
  EXPECT_EQ(account().second, after.second);
}

}  // namespace
}  // namespace mesim::test
