// Methods of existing classes that consoles send (issue 14 item 1): the audit log's lock and signature, the setup
// service's provisioning-period and record methods, the opt-in service's state methods. Each test checks the effect
// in a later Get, Enumerate or method call, and that bad input gets the SDK's answer.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/io_context.hpp>

#include <regex>
#include <utility>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/provisioning_timeout.h"
#include "firmware/platform/host_power.h"
#include "tests/support/provisioning_pki.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman {
namespace {

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kIps = "http://intel.com/wbem/wscim/1/ips-schema/1/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
constexpr std::int64_t kNow = 1700000000;

std::string uriOf(const std::string& cls) {
  return (cls.starts_with("AMT_") ? kAmt : cls.starts_with("IPS_") ? kIps : kCim) + cls;
}

class MethodsTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }
  void reopen() {
    service.reset();
    power.reset();
    model.reset();
    open();
  }

  std::string call(const std::string& body) {
    auto r = service->handle(body, {"admin", false});
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  }
  std::string get(const std::string& cls, const std::string& selectors = {}) {
    return call(test::wsmanEnvelope(kTransfer + "Get", uriOf(cls), "", "1", selectors));
  }
  std::string invoke(const std::string& cls, const std::string& method, const std::string& args = {},
                     const std::string& selectors = {}) {
    const std::string uri = uriOf(cls);
    return call(test::wsmanEnvelope(uri + "/" + method, uri,
                                    "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + args + "</h:" + method + "_INPUT>",
                                    "1", selectors));
  }
  static std::string returnValue(const std::string& body) { return field(body, "ReturnValue"); }
  static std::string field(const std::string& body, const std::string& name) {
    std::smatch m;
    return std::regex_search(body, m, std::regex(":" + name + ">([^<]*)<")) ? std::string(m[1]) : "none";
  }
  void audit(std::uint16_t app, std::uint16_t event) {
    ASSERT_EQ(model->update([&](platform::PlatformState& s) {
      platform::appendAuditRecord(s, platform::makeAuditRecord(app, event, {"admin", false, {}}, now()));
    }), platform::ChangeResult::Ok);
  }
  std::uint32_t now() const { return core::unixSeconds(clock.now()); }

  test::TempDir dir{"methods"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(kNow)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
};

std::string lockArgs(int flag, int timeout = -1, long handle = -1) {
  std::string args;
  if (timeout >= 0) args += "<h:LockTimeoutInSeconds>" + std::to_string(timeout) + "</h:LockTimeoutInSeconds>";
  args += "<h:Flag>" + std::to_string(flag) + "</h:Flag>";
  if (handle >= 0) args += "<h:Handle>" + std::to_string(handle) + "</h:Handle>";
  return args;
}

TEST_F(MethodsTest, AuditLockStopsRecordsUntilUnlockOrExpiry) {
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "16") << "enabled, no signing key";
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock")), "36") << "no Flag";
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(0))), "36") << "a lock needs a timeout";
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(0, 301))), "36") << "at most 5 minutes";
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(3, 60))), "36");

  auto locked = invoke("AMT_AuditLog", "SetAuditLock", lockArgs(0, 120));
  ASSERT_EQ(returnValue(locked), "0") << locked;
  const long handle = std::stol(field(locked, "Handle"));
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "18") << "locked";
  const auto before = model->state().logs.auditLog.size();
  audit(17, 0);
  EXPECT_EQ(model->state().logs.auditLog.size(), before) << "a locked log takes no record";
  // Another handle, or none, can neither renew nor release the lock.
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(0, 60))), "16");
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(2, -1, handle + 1))), "16");
  // The holder renews it: 100 s from now, past the first lock's expiry.
  clock.advance(std::chrono::seconds(60));
  auto renewed = invoke("AMT_AuditLog", "SetAuditLock", lockArgs(0, 100, handle));
  EXPECT_EQ(returnValue(renewed), "0");
  EXPECT_EQ(field(renewed, "Handle"), std::to_string(handle));
  clock.advance(std::chrono::seconds(80));
  audit(17, 0);
  EXPECT_EQ(model->state().logs.auditLog.size(), before) << "the renewed lock still holds";
  // The lock is persisted: a restarted firmware still honours it until it expires.
  reopen();
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "18");
  clock.advance(std::chrono::seconds(21));
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "16") << "expired on the firmware clock";
  audit(17, 0);
  EXPECT_EQ(model->state().logs.auditLog.size(), before + 1);

  // Anyone may lock a free log; the holder unlocks it and the records flow again.
  auto again = invoke("AMT_AuditLog", "SetAuditLock", lockArgs(1, 60));
  ASSERT_EQ(returnValue(again), "0");
  EXPECT_NE(field(again, "Handle"), std::to_string(handle)) << "handles are not reused";
  EXPECT_TRUE(model->state().services.auditLockUnprovisioning);
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(2, -1, std::stol(field(again, "Handle"))))), "0");
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "16");
  audit(17, 0);
  EXPECT_EQ(model->state().logs.auditLog.size(), before + 2);
}

std::vector<std::uint8_t> privateKeyDer(const test::Pkey& key) {
  unsigned char* out = nullptr;
  const int length = i2d_PrivateKey(key.get(), &out);
  std::vector<std::uint8_t> der(out, out + std::max(length, 0));
  OPENSSL_free(out);
  return der;
}

std::string keyMaterialArgs(const std::vector<std::uint8_t>& keyDer, const std::vector<std::vector<std::uint8_t>>& chain) {
  std::string args = "<h:SigningMechanismType>1</h:SigningMechanismType><h:SigningKey>" + cim::base64Encode(keyDer) +
                     "</h:SigningKey>";
  std::vector<std::uint8_t> stream;
  for (const auto& der : chain) {
    args += "<h:LengthOfCertificates>" + std::to_string(der.size()) + "</h:LengthOfCertificates>";
    stream.insert(stream.end(), der.begin(), der.end());
  }
  return args + "<h:Certificates>" + cim::base64Encode(stream) + "</h:Certificates>";
}

TEST_F(MethodsTest, AuditLogSignatureVerifiesWithTheSigningCertificate) {
  auto pki = test::ProvisioningPki::make(kNow, "auditor.example.com");
  const auto keyDer = privateKeyDer(pki.leafKey);
  const std::vector<std::vector<std::uint8_t>> chain{test::derOf(pki.leaf), test::derOf(pki.intermediate)};

  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "ExportAuditLogSignature", "<h:SigningMechanism>1</h:SigningMechanism>")),
            std::to_string(0x80C)) << "no key material yet";
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetSigningKeyMaterial")), "36");
  // The chain's lengths must cover the stream; the leaf must be the key's; the key an RSA 2048 key.
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetSigningKeyMaterial",
                               keyMaterialArgs(keyDer, {chain[0]}) + "<h:LengthOfCertificates>5</h:LengthOfCertificates>")),
            "36");
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetSigningKeyMaterial", keyMaterialArgs(privateKeyDer(pki.rootKey), chain))),
            std::to_string(0x810));
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetSigningKeyMaterial",
                               keyMaterialArgs(privateKeyDer(test::makeRsaKey(1024)), chain))),
            std::to_string(0x80E));
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "SetSigningKeyMaterial", keyMaterialArgs(keyDer, chain))), "0");
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "0") << "the No Key bit is gone";

  audit(17, 0);
  audit(17, 3);
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "ExportAuditLogSignature", "<h:SigningMechanism>3</h:SigningMechanism>")),
            "36");
  clock.advance(std::chrono::seconds(30));
  const auto records = model->state().logs.auditLog;
  auto exported = invoke("AMT_AuditLog", "ExportAuditLogSignature", "<h:SigningMechanism>1</h:SigningMechanism>");
  ASSERT_EQ(returnValue(exported), "0") << exported;
  EXPECT_EQ(field(exported, "TotalRecordCount"), std::to_string(records.size()));
  EXPECT_EQ(field(exported, "FQDN"), model->state().fqdn());
  EXPECT_NE(exported.find(":LengthOfCertificates>" + std::to_string(chain[0].size()) + "<"), std::string::npos);

  // Rebuild what docs/object-model.md says is signed and check the signature with the leaf's public key.
  std::vector<std::uint8_t> data;
  for (const auto& r : records) data.insert(data.end(), r.begin(), r.end());
  auto be32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) data.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  be32(static_cast<std::uint32_t>(records.size()));
  be32(platform::decodeAuditRecord(records.front())->timestamp);
  be32(platform::decodeAuditRecord(records.back())->timestamp);
  be32(now());
  data.insert(data.end(), model->state().uuid.begin(), model->state().uuid.end());
  const auto fqdn = model->state().fqdn();
  data.insert(data.end(), fqdn.begin(), fqdn.end());
  be32(1);
  std::vector<std::uint8_t> signature;
  ASSERT_TRUE(cim::base64Decode(field(exported, "Signature"), signature));
  EXPECT_EQ(signature.size(), 256u);
  EVP_PKEY* publicKey = X509_get0_pubkey(pki.leaf.get());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> verify(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(verify.get(), nullptr, EVP_sha256(), nullptr, publicKey), 1);
  EXPECT_EQ(EVP_DigestVerify(verify.get(), signature.data(), signature.size(), data.data(), data.size()), 1);
  data.back() ^= 1;  // a changed mechanism does not verify: the check can fail
  ASSERT_EQ(EVP_DigestVerifyInit(verify.get(), nullptr, EVP_sha256(), nullptr, publicKey), 1);
  EXPECT_NE(EVP_DigestVerify(verify.get(), signature.data(), signature.size(), data.data(), data.size()), 1);

  // The export is audited (2004), and the key material survives a restart.
  auto last = platform::decodeAuditRecord(model->state().logs.auditLog.back());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->app * 100 + last->event, 2004);
  reopen();
  EXPECT_EQ(field(get("AMT_AuditLog"), "AuditState"), "0");
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "ExportAuditLogSignature", "<h:SigningMechanism>0</h:SigningMechanism>")),
            "0");
}


TEST_F(MethodsTest, ExtendProvisioningPeriodMovesTheDeadline) {
  boost::asio::io_context io;
  core::FirmwareTimerQueue timers{io, clock};
  platform::ProvisioningTimeout timeout{timers, *model, std::chrono::hours(1)};
  service->setProvisioningTimeout(&timeout);
  const auto extend = [&](const std::string& hours) {
    return returnValue(invoke("AMT_SetupAndConfigurationService", "ExtendProvisioningPeriod",
                              hours.empty() ? "" : "<h:Duration>" + hours + "</h:Duration>"));
  };
  EXPECT_EQ(extend("2"), "16") << "provisioned: no period runs";
  ASSERT_EQ(model->unprovision(platform::UnprovisionScope::Full), platform::ChangeResult::Ok);
  ASSERT_EQ(model->startHostBasedConfiguration({}), platform::ChangeResult::Ok);
  const auto deadline = timeout.deadline();
  ASSERT_TRUE(deadline);
  EXPECT_EQ(extend(""), "36");
  EXPECT_EQ(extend("0"), "36");
  EXPECT_EQ(extend("25"), "36") << "at most 24 hours a call";
  EXPECT_EQ(extend("2"), "0");
  ASSERT_TRUE(timeout.deadline());
  EXPECT_EQ(*timeout.deadline(), *deadline + std::chrono::hours(2));
  clock.advance(std::chrono::hours(1) + std::chrono::seconds(1));
  EXPECT_EQ(model->provisioningState(), platform::ProvisioningState::In) << "the first hour is not the end any more";
  clock.advance(std::chrono::hours(2));
  EXPECT_EQ(model->provisioningState(), platform::ProvisioningState::Pre) << "abandoned at the extended deadline";
  EXPECT_EQ(timeout.expired(), 1u);
  service->setProvisioningTimeout(nullptr);
}

TEST_F(MethodsTest, ProvisioningRecordFlashWearOutAndBlockingComponents) {
  const std::string cls = "AMT_SetupAndConfigurationService";
  EXPECT_EQ(returnValue(invoke(cls, "GetProvisioningAuditRecord")), std::to_string(0x814)) << "configured, not by a console";
  ASSERT_EQ(model->update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                             platform::audit::kProvisioningCompleted,
                                                             {"admin", false, {}}, now()));
  }), platform::ChangeResult::Ok);
  for (const char* method : {"GetProvisioningAuditRecord", "GetProvisioningAuditRecordV2"}) {
    auto record = invoke(cls, method);
    EXPECT_EQ(returnValue(record), "0") << record;
    EXPECT_NE(record.find("ips-schema/1/IPS_AdminProvisioningRecord<"), std::string::npos) << record;
    EXPECT_NE(record.find(">Intel(r) AMT:IPS_AdminProvisioningRecord 1<"), std::string::npos) << record;
  }
  // The reference is one IPS_AdminProvisioningRecord serves.
  const auto served = get("IPS_AdminProvisioningRecord",
                          "<w:Selector Name=\"InstanceID\">Intel(r) AMT:IPS_AdminProvisioningRecord 1</w:Selector>");
  EXPECT_NE(served.find(":RecordData>AdminSetup<"), std::string::npos) << served;
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(returnValue(invoke("IPS_ProvisioningRecordLog", "ClearLog")), "0");
  EXPECT_EQ(returnValue(invoke(cls, "GetProvisioningAuditRecordV2")), std::to_string(0x814)) << "cleared";

  // Nothing blocks an unprovision since AMT 12, not even the auditor's unprovisioning lock.
  ASSERT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock", lockArgs(1, 60))), "0");
  auto blocking = invoke(cls, "GetUnprovisionBlockingComponents");
  EXPECT_EQ(returnValue(blocking), "0");
  EXPECT_EQ(blocking.find("Component>"), std::string::npos) << blocking;
  ASSERT_EQ(returnValue(invoke("AMT_AuditLog", "SetAuditLock",
                               lockArgs(2, -1, model->state().services.auditLockHandle))), "0");

  EXPECT_EQ(returnValue(invoke(cls, "ResetFlashWearOutProtection")), "0");
  auto last = platform::decodeAuditRecord(model->state().logs.auditLog.back());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->app * 100 + last->event, 1615) << "Flash Wear-Out Counters Reset";
}

TEST_F(MethodsTest, TlsPskIsSetBeforeProvisioningOnly) {
  const std::string cls = "AMT_SetupAndConfigurationService";
  const auto pid = cim::base64Encode(std::vector<std::uint8_t>(8, 0x31));
  const auto pps = cim::base64Encode(std::vector<std::uint8_t>(32, 0x42));
  const auto args = [](const std::string& p, const std::string& s) {
    return "<h:PID>" + p + "</h:PID><h:PPS>" + s + "</h:PPS>";
  };
  EXPECT_EQ(returnValue(invoke(cls, "SetTLSPSK")), "36");
  EXPECT_EQ(returnValue(invoke(cls, "SetTLSPSK", args(pid, pps))), "16") << "provisioned already";
  ASSERT_EQ(model->unprovision(platform::UnprovisionScope::Full), platform::ChangeResult::Ok);
  EXPECT_EQ(returnValue(invoke(cls, "SetTLSPSK", args(pps, pps))), "36") << "a PID is 8 bytes";
  EXPECT_EQ(returnValue(invoke(cls, "SetTLSPSK", args(pid, pid))), "36") << "a PPS is 32 bytes";
  EXPECT_EQ(returnValue(invoke(cls, "SetTLSPSK", args(pid, pps))), "0");
  auto last = platform::decodeAuditRecord(model->state().logs.auditLog.back());
  ASSERT_TRUE(last);
  EXPECT_EQ(last->app * 100 + last->event, 1612) << "TLS Preshared Key Set";
  reopen();
  EXPECT_EQ(model->state().services.tlsPskId, pid);
  EXPECT_EQ(model->state().services.tlsPskValue, pps);
}

TEST_F(MethodsTest, OptInServiceRunsAndCannotBeStopped) {
  EXPECT_EQ(field(get("IPS_OptInService"), "EnabledState"), "2");
  EXPECT_EQ(returnValue(invoke("IPS_OptInService", "RequestStateChange")), "5");
  EXPECT_EQ(returnValue(invoke("IPS_OptInService", "RequestStateChange", "<h:RequestedState>3</h:RequestedState>")), "1");
  EXPECT_EQ(returnValue(invoke("IPS_OptInService", "StopService")), "1");
  EXPECT_EQ(field(get("IPS_OptInService"), "EnabledState"), "2") << "still running";
  EXPECT_EQ(returnValue(invoke("IPS_OptInService", "RequestStateChange", "<h:RequestedState>2</h:RequestedState>")), "0");
  EXPECT_EQ(returnValue(invoke("IPS_OptInService", "StartService")), "0");
  EXPECT_EQ(field(get("IPS_OptInService"), "EnabledState"), "2");
}

TEST_F(MethodsTest, TerminateSessionEndsTheSessionsOfItsKind) {
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession", "<h:SessionType>1</h:SessionType>")), "3")
      << "no redirection: no session";
  std::vector<cim::RedirectionSessionKind> asked;
  std::size_t open = 1;
  service->setSessionTerminator([&](cim::RedirectionSessionKind kind) {
    asked.push_back(kind);
    return std::exchange(open, 0);
  });
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession")), "2");
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession", "<h:SessionType>2</h:SessionType>")), "2");
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession", "<h:SessionType>1</h:SessionType>")), "0");
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession", "<h:SessionType>1</h:SessionType>")), "3")
      << "already ended";
  open = 1;
  EXPECT_EQ(returnValue(invoke("AMT_RedirectionService", "TerminateSession", "<h:SessionType>0</h:SessionType>")), "0");
  open = 1;
  EXPECT_EQ(returnValue(invoke("IPS_KVMRedirectionSettingData", "TerminateSession")), "0");
  EXPECT_EQ(returnValue(invoke("IPS_KVMRedirectionSettingData", "TerminateSession")), "3");
  EXPECT_TRUE((asked == std::vector{cim::RedirectionSessionKind::Sol, cim::RedirectionSessionKind::Sol,
                                    cim::RedirectionSessionKind::Ider, cim::RedirectionSessionKind::Kvm,
                                    cim::RedirectionSessionKind::Kvm}));
}

TEST_F(MethodsTest, HttpProxyPriorityIsItsPlaceInTheList) {
  for (const char* host : {"a.example.com", "b.example.com", "c.example.com"})
    ASSERT_EQ(returnValue(invoke("IPS_HTTPProxyService", "AddProxyAccessPoint",
                                 std::string("<h:AccessInfo>") + host +
                                     "</h:AccessInfo><h:InfoFormat>201</h:InfoFormat><h:Port>8080</h:Port>")),
              "0");
  const auto selector = [](int n) {
    return "<w:Selector Name=\"Name\">Intel(r) ME:HTTP Proxy Access Point " + std::to_string(n) + "</w:Selector>";
  };
  EXPECT_EQ(returnValue(invoke("IPS_HTTPProxyAccessPoint", "UpdatePriority", "", selector(3))), "36");
  EXPECT_EQ(returnValue(invoke("IPS_HTTPProxyAccessPoint", "UpdatePriority", "<h:Priority>4</h:Priority>", selector(3))),
            "36");
  EXPECT_EQ(returnValue(invoke("IPS_HTTPProxyAccessPoint", "UpdatePriority", "<h:Priority>1</h:Priority>", selector(3))),
            "0");
  reopen();
  EXPECT_EQ(field(get("IPS_HTTPProxyAccessPoint", selector(3)), "Priority"), "1");
  EXPECT_EQ(field(get("IPS_HTTPProxyAccessPoint", selector(1)), "Priority"), "2");
  EXPECT_EQ(field(get("IPS_HTTPProxyAccessPoint", selector(2)), "Priority"), "3");
  EXPECT_EQ(model->state().httpProxies.front().accessInfo, "c.example.com");
}

}  // namespace
}  // namespace mesim::wsman
