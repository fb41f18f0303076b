#include "firmware/platform/platform_model.h"

#include <openssl/crypto.h>

#include <cctype>
#include <algorithm>
#include <system_error>

#include "common/text_codecs.h"
#include "firmware/core/atomic_file.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_json.h"

namespace mesim::platform {
namespace {

constexpr std::size_t kMaxFqdnLength = 255;

// Root CAs AMT ships as default trusted provisioning hashes; SHA-256 fingerprints of the public
// certificates (checked with `openssl x509 -fingerprint -sha256` against the Debian CA bundle).
struct DefaultRoot {
  const char* name;
  const char* sha256;
};
constexpr DefaultRoot kDefaultRoots[] = {
    {"DigiCert Global Root CA", "4348a0e9444c78cb265e058d5e8944b4d84f9662bd26db257f8934a443c70161"},
    {"DigiCert Assured ID Root CA", "3e9099b5015e8f486c00bcea9d111ee721faba355a89bcf1df69561e3dc6325c"},
    {"DigiCert High Assurance EV Root CA", "7431e5f4c3c1ce4690774f0b61e05440883ba9a01ed00ba6abd7806ed3b118cf"},
    {"Go Daddy Root CA - G2", "45140b3247eb9cc8c5b4f0d7b53091f73292089e6e5a63e2749dd3aca9198eda"},
    {"Entrust Root CA - G2", "43df5774b03e7fef5fe40d931a7bedf1bb2e6b42738c4e6d3841103d3aa7f339"},
    {"Comodo AAA CA", "d7a7a0fb5d7e2731d771e9484ebcdef71d5f0c3e0a2948782bc83ee0ea699ef4"},
    {"USERTrust RSA CA", "e793c9b02fd8aa13e21c31228accb08119643b749c898964b1746d46c3d4cbd2"},
};

// MKHI FWCAPS bits (LMS MEIClient/MKHIClient/Include/GetFWCapsCommand.h, GetPlatformTypeCommand.h).
constexpr std::uint32_t kCapAmt = 1u << 2;
constexpr std::uint32_t kCapPav = 1u << 12;
constexpr std::uint32_t kCapIpv6 = 1u << 17;
constexpr std::uint32_t kCapKvm = 1u << 18;
constexpr std::uint32_t kCapTls = 1u << 21;
constexpr std::uint32_t kCapCila = 1u << 22;
constexpr std::uint32_t kCorporateFeatures = kCapAmt | kCapPav | kCapIpv6 | kCapKvm | kCapTls | kCapCila;
// Desktop (bit 1), production signed (bit 7), ImageType 4 = ME_FULL_8MB (bits 8-11), Brand 1 = AMT (bits 12-15):
// what LMS's Configurator requires before it starts port forwarding (spec/apf.md §4).
constexpr std::uint32_t kCorporateDesktop = (1u << 1) | (1u << 7) | (4u << 8) | (1u << 12);

MacAddress randomMac() {
  MacAddress mac{};
  randomBytes(mac.data(), mac.size());
  mac[0] = static_cast<std::uint8_t>((mac[0] & 0xFC) | 0x02);  // unicast, locally administered
  return mac;
}

std::vector<CodeVersion> codeVersionsFor(const FirmwareVersion& v) {
  const std::string full = v.toString();
  const std::string shortVersion =
      std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.hotfix);
  const std::string build = std::to_string(v.build);
  // Keys rpc-go reads ("AMT", "Build Number", "Sku"); the rest as AMT 16 lists them. Sku 16392 = 0x4008:
  // bit 3 "AMT Pro" in rpc-go's decodeAMTFeatures (rpc-go tests use this value).
  return {{"Flash", full},
          {"Netstack", full},
          {"AMTApps", full},
          {"AMT", shortVersion},
          {"Sku", "16392"},
          {"VendorID", "8086"},
          {"Build Number", build},
          {"Recovery Version", shortVersion},
          {"Recovery Build Num", build},
          {"Legacy Mode", "False"},
          {"TXT", "True"}};
}

PlatformState makeInitialState(const PlatformDefaults& d) {
  PlatformState s;
  const std::optional<IdentityDerivation> derived =
      d.identity ? std::optional<IdentityDerivation>(*d.identity) : std::nullopt;
  s.uuid = derived ? derived->uuid() : randomUuid();  // the hardware inventory's serial numbers follow the UUID
  s.digestRealm = derived ? derived->digestRealm() : randomDigestRealm();

  s.firmware.code = d.firmwareVersion;
  s.firmware.recovery = d.firmwareVersion;
  s.firmware.fitc = d.firmwareVersion;
  s.firmware.biosVersion = "MESIM.86A.0016.2025.0101.1200";
  s.firmware.codeVersions = codeVersionsFor(d.firmwareVersion);
  s.firmware.capabilities = kCorporateFeatures;
  s.firmware.fwUpdateState = 1;
  s.firmware.platformType = kCorporateDesktop;
  s.firmware.featuresEnabled = kCorporateFeatures;
  s.firmware.featuresAvailable = kCorporateFeatures;

  s.provisioningState = d.provisioningState;
  s.controlMode = d.provisioningState == ProvisioningState::Post ? d.controlMode : ControlMode::None;
  if (s.provisioningState == ProvisioningState::Post && s.controlMode == ControlMode::None)
    s.controlMode = ControlMode::Admin;
  if (s.controlMode == ControlMode::Client) s.optIn.optInRequired = kOptInRequiredAll;

  s.admin.user = "admin";
  s.admin.ha1 = digestHa1(s.admin.user, s.digestRealm, d.adminPassword);
  s.localSystemAccount.user = randomLocalSystemUser();
  s.localSystemAccount.password = randomPassword(32);

  s.hostName = d.hostName;
  s.domainName = d.domainName;
  s.pkiDnsSuffix = "";
  if (!d.domainName.empty()) s.dnsSuffixList = {d.domainName};

  s.wired.mac = derived ? derived->wiredMac() : randomMac();
  s.wired.ipv4 = 0xC0A80164;  // 192.168.1.100
  s.wireless.present = d.wirelessNic;
  s.wireless.mac = derived ? derived->wirelessMac() : randomMac();
  s.wireless.enabled = false;
  s.wireless.linkUp = false;
  s.wireless.ipv4 = 0;

  s.powerPolicy = "Desktop: ON in S0, ME Wake in S3, S4-5";
  std::uint32_t handle = 1;
  for (const auto& root : kDefaultRoots) {
    CertHashEntry e;
    e.handle = handle++;
    e.name = root.name;
    e.algorithm = HashAlgorithm::Sha256;
    e.hash = text::fromHex(root.sha256).value();
    s.certHashes.push_back(std::move(e));
  }
  return s;
}

// AMT's strong-password rule for the MEBx password (Intel AMT SDK, SetMEBxPassword).
bool strongPassword(std::string_view password) {
  if (password.size() < 8 || password.size() > 32) return false;
  bool digit = false, lower = false, upper = false, symbol = false;
  for (unsigned char c : password) {
    if (c < 0x20 || c > 0x7e) return false;
    digit |= std::isdigit(c) != 0;
    lower |= std::islower(c) != 0;
    upper |= std::isupper(c) != 0;
    symbol |= std::ispunct(c) != 0;
  }
  return digit && lower && upper && symbol;
}

// What every unprovision does to `s` (AMT Implementation Guide, "Restoring Intel AMT to Factory Mode": ACLs,
// configuration data and custom hashes erased, the event log cleared; from AMT 8 on the audit log is kept; from
// AMT 12 on the DNS suffix too).
void resetToPreProvisioning(PlatformState& s, UnprovisionScope scope, const std::string& adminHa1) {
  s.provisioningState = ProvisioningState::Pre;
  s.controlMode = ControlMode::None;
  s.hostBasedSetup.reset();
  s.aclUsers.clear();
  if (scope == UnprovisionScope::Full) {
    s.admin.user = AdminAccount{}.user;
    s.admin.ha1 = adminHa1;
    s.admin.setByProvisioning = false;
    // The settings for the next provisioning go back to the factory's too; a partial unprovision keeps them.
    s.services.tlsPskId.clear();
    s.services.tlsPskValue.clear();
  }
  std::erase_if(s.certHashes, [](const CertHashEntry& e) { return !e.isDefault; });
  for (auto& e : s.certHashes) e.isActive = true;
  const PlatformState factory;
  s.tlsEnabled = false;
  s.tls = factory.tls;
  s.certificates.clear();
  s.mpsServers.clear();
  s.remoteAccessPolicies.clear();
  s.httpProxies.clear();
  s.remoteAccess.userInitiatedConnectionRequested = false;
  s.userInitiatedConnectionState = factory.userInitiatedConnectionState;
  s.optIn = factory.optIn;
  s.redirection = factory.redirection;
  s.boot = factory.boot;
  s.general = factory.general;
  s.systemDefense = factory.systemDefense;  // policies are configuration: an unprovisioned host is not isolated
  s.pet = factory.pet;  // trap subscribers and filter settings are configuration (docs/pet.md)
  s.thirdPartyStorage = factory.thirdPartyStorage;  // third-party data is erased with the configuration (docs/3pds.md)
  s.logs.messageLog.clear();
}

void appendRecord(PlatformState& s, std::vector<std::uint8_t> record) {
  if (!record.empty()) appendAuditRecord(s, std::move(record));
}

// Makes `hash` an enabled trusted root hash: a user entry is added, or an entry holding it enabled. True if the
// list changed.
bool trustRootHash(PlatformState& s, const std::vector<std::uint8_t>& hash) {
  const HashAlgorithm algorithm = hash.size() == 20 ? HashAlgorithm::Sha1
                                  : hash.size() == 48 ? HashAlgorithm::Sha384
                                                      : HashAlgorithm::Sha256;
  for (auto& e : s.certHashes) {
    if (e.algorithm != algorithm || e.hash != hash) continue;
    if (e.isActive && e.isDefault) return false;
    e.isActive = true;
    e.isDefault = true;  // a user hash of the same root (or one an older mesim made) joins the firmware's list
    return true;
  }
  CertHashEntry entry;
  entry.handle = 1;
  for (const auto& e : s.certHashes) entry.handle = std::max(entry.handle, e.handle + 1);
  entry.name = "mesim --trusted-root-hash";
  entry.algorithm = algorithm;
  entry.hash = hash;
  // In the firmware's own list, as a vendor's root is: a QA loop of factory reset and activation keeps it.
  entry.isDefault = true;
  entry.isActive = true;
  s.certHashes.push_back(std::move(entry));
  return true;
}

}  // namespace

const char* toString(ChangeResult result) {
  switch (result) {
    case ChangeResult::Ok: return "ok";
    case ChangeResult::InvalidState: return "invalid state";
    case ChangeResult::InvalidParameter: return "invalid parameter";
    case ChangeResult::StorageError: return "storage error";
  }
  return "?";
}

PlatformModel::PlatformModel(StateStore store, PlatformState state)
    : store_(std::move(store)), state_(std::move(state)) {}

Result<std::unique_ptr<PlatformModel>> PlatformModel::open(const std::filesystem::path& stateDir,
                                                           const PlatformDefaults& defaults) {
  StateStore store(stateDir);
  auto loaded = store.load(makeInitialState(defaults));
  if (!loaded) return loaded.error();
  std::unique_ptr<PlatformModel> model(new PlatformModel(std::move(store), std::move(loaded->state)));
  bool needsWrite = loaded->needsSave;  // first start, fields added since the file was written, or schema 1
  model->factoryAdminHa1_ = digestHa1(AdminAccount{}.user, model->state_.digestRealm, defaults.adminPassword);

  // A password a console set in provisioning is the console's: the configured one applies again after unprovision.
  if (defaults.forceAdminPassword && !model->state_.admin.setByProvisioning) {
    auto ha1 = digestHa1(model->state_.admin.user, model->state_.digestRealm, defaults.adminPassword);
    if (ha1 != model->state_.admin.ha1) {
      model->state_.admin.ha1 = std::move(ha1);
      needsWrite = true;
    }
  }
  for (const auto& hash : defaults.trustedRootHashes) {
    if (trustRootHash(model->state_, hash)) needsWrite = true;
  }
  if (needsWrite) {
    if (auto valid = validateState(model->state_); !valid)
      return fail("--trusted-root-hash: " + valid.error().message);
    auto text = serializeState(model->state_);
    auto saved = text ? model->store_.save(model->state_, *text) : Result<>(text.error());
    if (!saved) return saved.error();
  }
  return model;
}

ChangeResult PlatformModel::commit(PlatformState next) {
  if (!validateState(next)) return ChangeResult::InvalidParameter;
  auto text = serializeState(next);
  if (!text) return ChangeResult::InvalidParameter;  // text that is not UTF-8
  if (auto saved = store_.save(next, *text); !saved) {
    lastError_ = saved.error().message;
    MESIM_LOG(Error, "platform", "change not made: " << lastError_);
    return ChangeResult::StorageError;
  }
  lastError_.clear();
  state_ = std::move(next);
  // A copy: an observer may subscribe or unsubscribe while being notified.
  auto observers = observers_;
  for (auto& [token, observer] : observers) observer();
  return ChangeResult::Ok;
}

ChangeResult PlatformModel::commitReset(PlatformState next) {
  ++configurationResets_;
  const auto result = commit(std::move(next));
  if (result != ChangeResult::Ok) --configurationResets_;
  return result;
}

std::string PlatformModel::uuidString() const { return text::uuidText(state_.uuid); }

const CertHashEntry* PlatformModel::findCertHash(std::uint32_t handle) const {
  for (const auto& e : state_.certHashes)
    if (e.handle == handle) return &e;
  return nullptr;
}

bool PlatformModel::verifyAdminPassword(std::string_view password) const {
  const auto ha1 = digestHa1(state_.admin.user, state_.digestRealm, password);
  return ha1.size() == state_.admin.ha1.size() &&
         CRYPTO_memcmp(ha1.data(), state_.admin.ha1.data(), ha1.size()) == 0;
}

ChangeResult PlatformModel::unprovision(UnprovisionScope scope, std::vector<std::uint8_t> auditRecord) {
  if (state_.provisioningState == ProvisioningState::Pre) return ChangeResult::InvalidState;
  PlatformState next = state_;
  appendRecord(next, std::move(auditRecord));
  resetToPreProvisioning(next, scope, factoryAdminHa1());
  return commitReset(std::move(next));
}

ChangeResult PlatformModel::unprovisionFromHost(std::vector<std::uint8_t> auditRecord) {
  if (state_.provisioningState == ProvisioningState::Post && state_.controlMode == ControlMode::Admin)
    return ChangeResult::InvalidState;
  if (state_.provisioningState == ProvisioningState::Pre) return ChangeResult::Ok;
  return unprovision(UnprovisionScope::Full, std::move(auditRecord));
}

ChangeResult PlatformModel::factoryReset(std::vector<std::uint8_t> auditRecord) {
  PlatformState next = state_;
  appendRecord(next, std::move(auditRecord));
  next.mebxHa1.clear();
  resetToPreProvisioning(next, UnprovisionScope::Full, factoryAdminHa1_);
  return commitReset(std::move(next));
}

bool renewOsAdminPasswordOnBoot(LocalSystemAccount& account, std::int64_t now) {
  constexpr std::int64_t kMinimumAge = 24 * 3600;
  const auto setAt = account.passwordSetAt;
  if (setAt != 0 && now - setAt < kMinimumAge && now >= setAt) return false;
  account.password = randomPassword(32);
  account.passwordSetAt = now;
  return true;
}

ChangeResult PlatformModel::hostRebooted(std::int64_t now) {
  PlatformState next = state_;
  if (!renewOsAdminPasswordOnBoot(next.localSystemAccount, now)) return ChangeResult::Ok;
  return commit(std::move(next));
}

ChangeResult PlatformModel::startHostBasedConfiguration(const HostBasedSetup& setup) {
  if (state_.provisioningState != ProvisioningState::Pre) return ChangeResult::InvalidState;
  if (setup.serverHashAlgorithm != HashAlgorithm::Sha256 && setup.serverHashAlgorithm != HashAlgorithm::Sha384)
    return ChangeResult::InvalidParameter;
  if (setup.serverCertHash.size() > 64) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.provisioningState = ProvisioningState::In;
  next.controlMode = ControlMode::None;
  next.hostBasedSetup = setup;
  return commit(std::move(next));
}

ChangeResult PlatformModel::stopConfiguration(std::vector<std::uint8_t> auditRecord) {
  if (state_.provisioningState != ProvisioningState::In) return ChangeResult::InvalidState;
  PlatformState next = state_;
  appendRecord(next, std::move(auditRecord));
  next.provisioningState = ProvisioningState::Pre;
  next.controlMode = ControlMode::None;
  next.hostBasedSetup.reset();
  return commit(std::move(next));
}

ChangeResult PlatformModel::completeProvisioning(ControlMode mode) {
  if (mode == ControlMode::None) return ChangeResult::InvalidParameter;
  if (state_.provisioningState == ProvisioningState::Post) return ChangeResult::InvalidState;
  PlatformState next = state_;
  next.provisioningState = ProvisioningState::Post;
  next.controlMode = mode;
  next.hostBasedSetup.reset();
  return commit(std::move(next));
}

ChangeResult PlatformModel::completeSetup(ControlMode mode, std::string_view adminHa1,
                                          std::vector<std::uint8_t> auditRecord) {
  if (mode == ControlMode::None || adminHa1.size() != 32 || !text::fromHex(adminHa1))
    return ChangeResult::InvalidParameter;
  if (state_.provisioningState == ProvisioningState::Post) return ChangeResult::InvalidState;
  PlatformState next = state_;
  next.admin.ha1.clear();
  for (char c : adminHa1) next.admin.ha1.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  next.admin.setByProvisioning = true;
  next.provisioningState = ProvisioningState::Post;
  next.controlMode = mode;
  next.hostBasedSetup.reset();
  // Client control mode: user consent for every redirection and KVM session (Intel AMT SDK, IPS_OptInService).
  if (mode == ControlMode::Client) next.optIn.optInRequired = kOptInRequiredAll;
  appendRecord(next, std::move(auditRecord));
  return commit(std::move(next));
}

ChangeResult PlatformModel::upgradeClientToAdmin(std::vector<std::uint8_t> auditRecord) {
  if (state_.provisioningState != ProvisioningState::Post || state_.controlMode != ControlMode::Client)
    return ChangeResult::InvalidState;
  PlatformState next = state_;
  next.controlMode = ControlMode::Admin;
  appendRecord(next, std::move(auditRecord));
  return commit(std::move(next));
}

ChangeResult PlatformModel::setMebxPassword(std::string_view password) {
  if (state_.provisioningState != ProvisioningState::Post || state_.controlMode != ControlMode::Admin)
    return ChangeResult::InvalidState;
  if (!strongPassword(password)) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.mebxHa1 = digestHa1(AdminAccount{}.user, state_.digestRealm, password);
  return commit(std::move(next));
}

ChangeResult PlatformModel::setAdminPassword(std::string_view password) {
  if (password.empty()) return ChangeResult::InvalidParameter;
  return setAdminPasswordHash(digestHa1(state_.admin.user, state_.digestRealm, password));
}

ChangeResult PlatformModel::setAdminPasswordHash(std::string_view ha1Hex) {
  if (ha1Hex.size() != 32 || !text::fromHex(ha1Hex)) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.admin.ha1.clear();
  for (char c : ha1Hex) next.admin.ha1.push_back(static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c));
  return commit(std::move(next));
}

ChangeResult PlatformModel::setHostFqdn(std::string_view fqdn) {
  if (fqdn.size() > kMaxFqdnLength) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.hostFqdn = std::string(fqdn);
  return commit(std::move(next));
}

ChangeResult PlatformModel::setEnterpriseAccess(const EnterpriseAccess& access) {
  if (access.flags & ~1u) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.enterpriseAccess = access;
  return commit(std::move(next));
}

ChangeResult PlatformModel::setUserInitiatedConnection(bool requested) {
  PlatformState next = state_;
  next.remoteAccess.userInitiatedConnectionRequested = requested;
  return commit(std::move(next));
}

void PlatformModel::setTunnelStatus(const RemoteAccessStatus& live) {
  const bool requested = state_.remoteAccess.userInitiatedConnectionRequested;
  state_.remoteAccess = live;
  state_.remoteAccess.userInitiatedConnectionRequested = requested;  // the host's request is configuration
}

ChangeResult PlatformModel::setAmtCertificateHash(HashAlgorithm alg, std::vector<std::uint8_t> hash) {
  if (hash.size() != hashLength(alg)) return ChangeResult::InvalidParameter;
  PlatformState next = state_;
  next.amtCertHashAlgorithm = alg;
  next.amtCertHash = std::move(hash);
  return commit(std::move(next));
}

ChangeResult PlatformModel::update(const std::function<void(PlatformState&)>& change) {
  PlatformState next = state_;
  change(next);
  return commit(std::move(next));
}

std::size_t PlatformModel::subscribe(Observer observer) {
  std::size_t token = nextToken_++;
  observers_.emplace(token, std::move(observer));
  return token;
}

void PlatformModel::unsubscribe(std::size_t token) { observers_.erase(token); }

}  // namespace mesim::platform
