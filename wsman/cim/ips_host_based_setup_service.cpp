// IPS_HostBasedSetupService: client control mode Setup, admin control mode AdminSetup after
// AddNextCertInChain, UpgradeClientToAdmin (spec/wsman.md §3.2 local activation).
#include <algorithm>
#include <cctype>
#include <optional>

#include "firmware/platform/credentials.h"
#include "common/text_codecs.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/provisioning_verifier.h"
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
  ctx.runtime.forgetProvisioningSession();
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

// AdminSetup / UpgradeClientToAdmin verified as the firmware does it (firmware/platform/provisioning_verifier.h):
// a McNonce, DigitalSignature or SigningAlgorithm that cannot be read, or an algorithm the SDK does not list, is
// INVALID_PARAM; an incomplete chain and every failed check is AUTH_FAILED. A failure changes nothing: the AMT
// audit log has no event for a refused setup (Security Admin events 1600..1619), so it is logged here instead.
std::optional<std::uint32_t> refusal(CimContext& ctx, const Arguments& in, const char* method) {
  std::string mcNonce, signature;
  platform::ProvisioningRequest request;
  if (!argString(in, "McNonce", mcNonce) || !argString(in, "DigitalSignature", signature) ||
      !base64Decode(mcNonce, request.mcNonce) || !base64Decode(signature, request.signature) ||
      request.signature.empty())
    return kInvalidParam;
  std::string algorithm;
  if (argString(in, "SigningAlgorithm", algorithm)) {  // absent: RSA_SHA-2_256, what every agent sends
    std::uint64_t value = 0;
    if (!argUint(in, "SigningAlgorithm", value) || value > 0xFFFF) return kInvalidParam;
    request.signingAlgorithm = static_cast<std::uint16_t>(value);
  }
  auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
  if (!ctx.runtime.certChainComplete) {
    MESIM_LOG(Warn, "wsman", method << " refused: the certificate chain is not complete (AddNextCertInChain up to the root)");
    return kAuthFailed;
  }
  request.chain = ctx.runtime.certChain;
  base64Decode(nonceOf(ctx.runtime), request.configurationNonce);
  platform::ProvisioningTrust trust;
  trust.hashes = ctx.platform.certHashes();
  trust.dnsSuffixes = platform::provisioningDnsSuffixes(ctx.platform.state());
  trust.now = ctx.now();
  const auto verdict = platform::verifyProvisioning(request, trust);
  if (verdict.ok()) return std::nullopt;
  MESIM_LOG(Warn, "wsman", method << " refused: " << platform::toString(verdict.failure) << ": " << verdict.detail);
  return verdict.failure == platform::ProvisioningFailure::UnsupportedAlgorithm ? kInvalidParam : kAuthFailed;
}

MethodResult adminSetup(CimContext& ctx, const Instance&, const Arguments& in) {
  if (!canSetup(ctx.platform)) return MethodResult::status(kInvalidState);
  std::string ha1;
  if (!readPassword(in, ha1)) return MethodResult::status(kInvalidParam);
  if (auto refused = refusal(ctx, in, "AdminSetup")) return MethodResult::status(*refused);
  return finishSetup(ctx, ha1, ControlMode::Admin);
}

MethodResult upgradeClientToAdmin(CimContext& ctx, const Instance&, const Arguments& in) {
  if (ctx.platform.provisioningState() != ProvisioningState::Post || ctx.platform.controlMode() != ControlMode::Client)
    return MethodResult::status(kInvalidState);
  if (auto refused = refusal(ctx, in, "UpgradeClientToAdmin")) return MethodResult::status(*refused);
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.controlMode = ControlMode::Admin;
    platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                             platform::audit::kUpgradeClientToAdmin,
                                                             ctx.initiator(), now));
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(1);
  ctx.runtime.forgetProvisioningSession();
  return MethodResult::status(0);
}

// AddNextCertInChain return values (AMT SDK; go-wsman-messages hostbasedsetup): its own list, not Setup's.
namespace add_cert {
constexpr std::uint32_t kInvalidParam = 1;
constexpr std::uint32_t kInvalidState = 3;
constexpr std::uint32_t kCertVerifyFailed = 4;
constexpr std::uint32_t kChainLengthExceeded = 5;
}  // namespace add_cert

// The chain arrives leaf first, root last (rpc-go activate/local.go). In pre-provisioning for AdminSetup, in
// client control mode for UpgradeClientToAdmin; admin control mode has nothing to upgrade. Each certificate must
// be X.509 and issue the one before it; a refused one leaves the chain as it was, so the agent may send another.
MethodResult addNextCertInChain(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string cert;
  bool leaf = false, root = false;
  std::vector<std::uint8_t> der;
  if (!argString(in, "NextCertificate", cert) || !argBool(in, "IsLeafCertificate", leaf) ||
      !argBool(in, "IsRootCertificate", root) || !base64Decode(cert, der) || der.empty())
    return MethodResult::status(add_cert::kInvalidParam);
  if (ctx.platform.provisioningState() == ProvisioningState::Post && ctx.platform.controlMode() == ControlMode::Admin)
    return MethodResult::status(add_cert::kInvalidState);
  auto& rt = ctx.runtime;
  if (!leaf && (rt.certChain.empty() || rt.certChainComplete)) return MethodResult::status(add_cert::kInvalidState);
  if (!leaf && rt.certChain.size() >= platform::kMaxProvisioningChain)
    return MethodResult::status(add_cert::kChainLengthExceeded);
  const auto verdict = platform::checkNextCertificate(leaf ? nullptr : &rt.certChain.back(), der);
  if (!verdict.ok()) {
    auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
    MESIM_LOG(Warn, "wsman", "AddNextCertInChain refused: " << verdict.detail);
    return MethodResult::status(verdict.failure == platform::ProvisioningFailure::ChainMalformed
                                    ? add_cert::kInvalidParam
                                    : add_cert::kCertVerifyFailed);
  }
  if (leaf) rt.certChain.clear();
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
