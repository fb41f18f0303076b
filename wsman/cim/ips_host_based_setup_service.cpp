// IPS_HostBasedSetupService: client control mode Setup, admin control mode AdminSetup after
// AddNextCertInChain, UpgradeClientToAdmin (spec/wsman.md §3.2 local activation).
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

#include "firmware/platform/credentials.h"
#include "common/text_codecs.h"
#include "firmware/platform/event_records.h"
#include "common/log.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

constexpr const char* kClass = "IPS_HostBasedSetupService";
constexpr const char* kName = "Intel(r) Host Based Setup Service";
using T = PropType;
using platform::ControlMode;
using platform::ProvisioningState;

// IPS_HostBasedSetupService return values (Intel AMT SDK).
constexpr std::uint32_t kInvalidState = 2;
constexpr std::uint32_t kInvalidParam = 3;
constexpr std::uint32_t kAuthFailed = 5;
// CertChainStatus.
constexpr std::uint32_t kChainNotStarted = 0;
constexpr std::uint32_t kChainInProgress = 1;
constexpr std::uint32_t kChainComplete = 2;

const std::string& nonceOf(CimRuntime& rt) {
  if (rt.configurationNonce.empty()) {
    std::vector<std::uint8_t> nonce(20);
    platform::randomBytes(nonce.data(), nonce.size());
    rt.configurationNonce = base64Encode(nonce);
  }
  return rt.configurationNonce;
}

Instance setupService(CimContext& ctx) {
  Instance i;
  setServiceKeys(i, kClass, kName);
  i.set("AllowedControlModes", Value::numbers({2, 1}))
      .setNum("CertChainStatus", ctx.runtime.certChain.empty() ? kChainNotStarted
                                 : ctx.runtime.certChainComplete ? kChainComplete
                                                                 : kChainInProgress)
      .set("ConfigurationNonce", nonceOf(ctx.runtime))
      .setNum("CurrentControlMode", static_cast<std::uint32_t>(ctx.platform.controlMode()))
      .set("ElementName", kName);
  return i;
}

bool canSetup(const platform::PlatformModel& p) { return p.provisioningState() != ProvisioningState::Post; }

// NetAdminPassEncryptionType 2: NetworkAdminPassword = hex MD5(admin:realm:password) (spec/wsman.md §2.1).
bool readPassword(const Arguments& in, std::string& ha1) {
  std::uint64_t type = 0;
  if (!argUint(in, "NetAdminPassEncryptionType", type) || type != 2) return false;
  if (!argString(in, "NetworkAdminPassword", ha1) || ha1.size() != 32) return false;
  return text::fromHex(ha1).has_value();
}

MethodResult finishSetup(CimContext& ctx, const std::string& ha1, ControlMode mode) {
  auto result = ctx.platform.completeSetup(
      mode, ha1,
      platform::makeAuditRecord(platform::audit::kSecurityAdmin, platform::audit::kProvisioningCompleted,
                                ctx.initiator(), ctx.now()));
  if (result == platform::ChangeResult::InvalidState) return MethodResult::status(kInvalidState);
  if (result != platform::ChangeResult::Ok) return MethodResult::status(1);
  ctx.runtime.certChain.clear();
  ctx.runtime.certChainComplete = false;
  ctx.runtime.configurationNonce.clear();
  auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
  MESIM_LOG(Info, "wsman", "provisioned in " << (mode == ControlMode::Admin ? "admin" : "client") << " control mode");
  return MethodResult::status(0);
}

MethodResult setup(CimContext& ctx, const Instance&, const Arguments& in) {
  if (!canSetup(ctx.platform)) return MethodResult::status(kInvalidState);
  std::string ha1;
  if (!readPassword(in, ha1)) return MethodResult::status(kInvalidParam);
  return finishSetup(ctx, ha1, ControlMode::Client);
}

// The root of the chain must be one of the trusted provisioning hashes (AMTHI cert hashes).
bool rootTrusted(CimContext& ctx) {
  if (ctx.runtime.certChain.empty()) return false;
  const auto& root = ctx.runtime.certChain.back();
  for (auto alg : {platform::HashAlgorithm::Sha256, platform::HashAlgorithm::Sha384, platform::HashAlgorithm::Sha1}) {
    const EVP_MD* md = alg == platform::HashAlgorithm::Sha256   ? EVP_sha256()
                       : alg == platform::HashAlgorithm::Sha384 ? EVP_sha384()
                                                                : EVP_sha1();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(root.data(), root.size(), digest, &len, md, nullptr) != 1) continue;
    for (const auto& h : ctx.platform.certHashes())
      if (h.isActive && h.algorithm == alg && h.hash.size() == len && std::equal(h.hash.begin(), h.hash.end(), digest))
        return true;
  }
  return false;
}

MethodResult adminSetup(CimContext& ctx, const Instance&, const Arguments& in) {
  if (!canSetup(ctx.platform)) return MethodResult::status(kInvalidState);
  std::string ha1, nonce, signature;
  if (!readPassword(in, ha1) || !argString(in, "McNonce", nonce) || !argString(in, "DigitalSignature", signature))
    return MethodResult::status(kInvalidParam);
  if (!ctx.runtime.certChainComplete || !rootTrusted(ctx)) return MethodResult::status(kAuthFailed);
  return finishSetup(ctx, ha1, ControlMode::Admin);
}

MethodResult upgradeClientToAdmin(CimContext& ctx, const Instance&, const Arguments& in) {
  if (ctx.platform.provisioningState() != ProvisioningState::Post || ctx.platform.controlMode() != ControlMode::Client)
    return MethodResult::status(kInvalidState);
  std::string nonce, signature;
  if (!argString(in, "McNonce", nonce) || !argString(in, "DigitalSignature", signature))
    return MethodResult::status(kInvalidParam);
  if (!ctx.runtime.certChainComplete || !rootTrusted(ctx)) return MethodResult::status(kAuthFailed);
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.controlMode = ControlMode::Admin;
    platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                             platform::audit::kUpgradeClientToAdmin,
                                                             ctx.initiator(), now));
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : 1);
}

// The chain arrives leaf first, root last (rpc-go activate/local.go).
MethodResult addNextCertInChain(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string cert;
  bool leaf = false, root = false;
  std::vector<std::uint8_t> der;
  if (!argString(in, "NextCertificate", cert) || !argBool(in, "IsLeafCertificate", leaf) ||
      !argBool(in, "IsRootCertificate", root) || !base64Decode(cert, der) || der.empty())
    return MethodResult::status(kInvalidParam);
  auto& rt = ctx.runtime;
  if (leaf) {
    rt.certChain.clear();
    rt.certChainComplete = false;
  } else if (rt.certChain.empty() || rt.certChainComplete) {
    return MethodResult::status(kInvalidState);
  }
  if (rt.certChain.size() >= 8) return MethodResult::status(kInvalidParam);
  rt.certChain.push_back(std::move(der));
  rt.certChainComplete = root;
  return MethodResult::status(0);
}

}  // namespace

void registerHostBasedSetup(ClassRegistry& r) {
  ClassDef c;
  c.name = kClass;
  c.schema = Schema::Ips;
  c.keys = kServiceKeys;
  c.properties = {A("AllowedControlModes", T::UInt32), P("CertChainStatus", T::UInt32), P("ConfigurationNonce", T::Base64),
                  P("CreationClassName"), P("CurrentControlMode", T::UInt32), P("ElementName"), P("Name"),
                  P("SystemCreationClassName"), P("SystemName")};
  c.methods = {
      {"Setup",
       {In("NetAdminPassEncryptionType", T::UInt16), In("NetworkAdminPassword"), In("McNonce", T::Base64),
        In("SigningAlgorithm", T::UInt16), In("DigitalSignature", T::Base64)},
       {},
       setup},
      {"AdminSetup",
       {In("NetAdminPassEncryptionType", T::UInt16), In("NetworkAdminPassword"), In("McNonce", T::Base64),
        In("SigningAlgorithm", T::UInt16), In("DigitalSignature", T::Base64)},
       {},
       adminSetup},
      {"UpgradeClientToAdmin",
       {In("McNonce", T::Base64), In("SigningAlgorithm", T::UInt16), In("DigitalSignature", T::Base64)},
       {},
       upgradeClientToAdmin},
      {"AddNextCertInChain",
       {In("NextCertificate", T::Base64), In("IsLeafCertificate", T::Boolean), In("IsRootCertificate", T::Boolean)},
       {},
       addNextCertInChain},
  };
  c.enumerate = [](CimContext& ctx) { return std::vector<Instance>{setupService(ctx)}; };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
