// The one source of truth for the simulated platform (ARCHITECTURE.md). Persisted in the state dir by a
// StateStore (`platform.json` and the two log files), created on first start and reused after. Every change
// is on disk before it becomes visible, so kill -9 at any instant leaves a loadable state.
// Single-threaded: use it from the event loop only. No singletons: one instance per simulated device.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <cstdint>

#include "common/log.h"
#include "firmware/platform/identity_seed.h"
#include "firmware/platform/platform_state.h"
#include "firmware/platform/state_store.h"

namespace mesim::platform {

// First-start values. Only `adminPassword` (with `forceAdminPassword`) affects an existing state.
struct PlatformDefaults {
  std::string adminPassword = "P@ssw0rd";
  // Re-hash `adminPassword` on every open, not only the first (an explicitly configured password).
  bool forceAdminPassword = false;
  // Hashes (20, 32 or 48 bytes: SHA-1, SHA-256, SHA-384) made trusted on every open: added as enabled user hashes,
  // or enabled if present (--trusted-root-hash: real vendor roots cannot sign in tests).
  std::vector<std::vector<std::uint8_t>> trustedRootHashes{};
  ProvisioningState provisioningState = ProvisioningState::Post;
  ControlMode controlMode = ControlMode::Admin;  // forced to None unless provisioningState is Post
  bool wirelessNic = true;  // a Wi-Fi NIC next to the wired one (docs/wireless-and-8021x.md); off: a desktop without
  std::string hostName = "mesim";
  // Set: a new state dir's UUID, MACs and Digest realm derive from it (identity_seed.h), so the same seed and
  // subject make the same device anywhere; unset: random. An existing platform.json keeps its own either way.
  std::optional<IdentitySeed> identity{};
  std::string domainName = "example.com";
  FirmwareVersion firmwareVersion{16, 1, 27, 2225};
};

// What an unprovision keeps (AMT Implementation Guide, "Restoring Intel AMT to Factory Mode"): Partial keeps the
// admin account (name and password); Full gives it its factory name and password.
enum class UnprovisionScope { Full, Partial };

// Outcome of a change. The model logs storage errors once; callers map the rest to protocol statuses.
enum class ChangeResult { Ok, InvalidState, InvalidParameter, StorageError };
const char* toString(ChangeResult result);

// AMT gives the OS admin account (GetLocalSystemAccount) a new password when the host boots, unless it got one
// less than 24 hours before `now` (firmware clock, Unix seconds; AMT Implementation Guide, "Predefined Local System
// Users"). True when it changed.
bool renewOsAdminPasswordOnBoot(LocalSystemAccount& account, std::int64_t now);

class PlatformModel {
 public:
  static constexpr const char* kFileName = StateStore::kPlatformFile;

  // Loads `stateDir/platform.json` and the logs, or creates them (and the dir) on first start. A file that
  // exists but cannot be read or parsed is an error that names it and what to do; it is never overwritten
  // silently. A schema-1 platform.json (logs inside) is migrated.
  static Result<std::unique_ptr<PlatformModel>> open(const std::filesystem::path& stateDir,
                                                     const PlatformDefaults& defaults);

  PlatformModel(const PlatformModel&) = delete;
  PlatformModel& operator=(const PlatformModel&) = delete;

  // --- reading ---
  const PlatformState& state() const { return state_; }
  const std::filesystem::path& filePath() const { return store_.platformFile(); }
  // The device this platform belongs to, for log lines; firmware features log through it.
  const log::Context& logContext() const { return log_; }
  void setLogContext(log::Context context) { log_ = std::move(context); }
  // Changes fail with StorageError while `disk` is full (the control API's disk-full fault); it outlives the model.
  void setDiskFullSwitch(const core::DiskFullSwitch* disk) { store_.setDiskFullSwitch(disk); }
  // Why the last change returned StorageError (empty after a success).
  const std::string& lastError() const { return lastError_; }
  const std::array<std::uint8_t, 16>& uuid() const { return state_.uuid; }
  std::string uuidString() const;  // text::uuidText: lower-case 8-4-4-4-12
  const std::string& digestRealm() const { return state_.digestRealm; }
  const FirmwareInfo& firmware() const { return state_.firmware; }
  ProvisioningState provisioningState() const { return state_.provisioningState; }
  ControlMode controlMode() const { return state_.controlMode; }
  const AdminAccount& admin() const { return state_.admin; }
  const LocalSystemAccount& localSystemAccount() const { return state_.localSystemAccount; }
  std::string fqdn() const { return state_.fqdn(); }
  const std::string& hostFqdn() const { return state_.hostFqdn; }
  const LanInterface& wired() const { return state_.wired; }
  const LanInterface& wireless() const { return state_.wireless; }
  const FeatureStates& features() const { return state_.features; }
  const RemoteAccessStatus& remoteAccess() const { return state_.remoteAccess; }
  const EnterpriseAccess& enterpriseAccess() const { return state_.enterpriseAccess; }
  const std::vector<CertHashEntry>& certHashes() const { return state_.certHashes; }
  const CertHashEntry* findCertHash(std::uint32_t handle) const;

  // True if `password` is the admin password (compares HA1 digests in constant time).
  bool verifyAdminPassword(std::string_view password) const;

  // --- changing (each persists first, then notifies subscribers) ---
  // Text that is not valid UTF-8 is InvalidParameter (platform.json must always parse again).
  // The provisioning state machine (docs/provisioning.md). `auditRecord`, when not empty, is appended to the audit
  // log in the same change (makeAuditRecord, event_records.h).
  //
  // Back to pre-provisioning from in- or post-provisioning, as AMT_SetupAndConfigurationService.Unprovision (Full)
  // and PartialUnprovision do: ACL users, user-added root hashes and every configuration (TLS, certificates, CIRA,
  // proxies, user consent, redirection, boot, general settings) are cleared, the event (message) log is cleared
  // and the audit log kept (AMT >= 8). InvalidState in pre-provisioning.
  ChangeResult unprovision(UnprovisionScope scope, std::vector<std::uint8_t> auditRecord = {});
  // AMTHI Unprovision (CFG_Unprovision): a full unprovision the host may make in client control mode or an
  // unfinished configuration. InvalidState in admin control mode (AMTHI may not undo ACM); pre stays pre (Ok).
  ChangeResult unprovisionFromHost(std::vector<std::uint8_t> auditRecord = {});
  // The factory state from any state: a full unprovision that also forgets the MEBx password (a CMOS clear).
  ChangeResult factoryReset(std::vector<std::uint8_t> auditRecord = {});
  // Host-based setup begins: pre -> in. InvalidState unless pre-provisioned.
  ChangeResult startHostBasedConfiguration(const HostBasedSetup& setup);
  // Abandons an unfinished configuration (AMTHI StopConfiguration, the provisioning timeout): in -> pre.
  // InvalidState unless in-provisioning.
  ChangeResult stopConfiguration(std::vector<std::uint8_t> auditRecord = {});
  // Provisioning completed without a password (tests): -> post in `mode` (Client or Admin).
  ChangeResult completeProvisioning(ControlMode mode);
  // IPS_HostBasedSetupService Setup (Client) or AdminSetup (Admin): pre or in -> post in `mode`; the admin's
  // password becomes `adminHa1` (32 hex digits, MD5(admin:realm:password)). Client control mode requires user
  // consent for every redirection (IPS_OptInService.OptInRequired 4294967295). InvalidState when post.
  ChangeResult completeSetup(ControlMode mode, std::string_view adminHa1, std::vector<std::uint8_t> auditRecord = {});
  // CCM -> ACM (UpgradeClientToAdmin). InvalidState unless in client control mode.
  ChangeResult upgradeClientToAdmin(std::vector<std::uint8_t> auditRecord = {});
  // AMT_SetupAndConfigurationService.SetMEBxPassword: InvalidState unless in admin control mode; InvalidParameter
  // unless a strong password (8..32 characters with a digit, a lower- and an upper-case letter and a symbol).
  ChangeResult setMebxPassword(std::string_view password);
  // The admin's password in factory state: the MEBx password once set, else the configured --admin-password.
  const std::string& factoryAdminHa1() const { return state_.mebxHa1.empty() ? factoryAdminHa1_ : state_.mebxHa1; }
  ChangeResult setAdminPassword(std::string_view password);
  ChangeResult setAdminPasswordHash(std::string_view ha1Hex);  // 32 hex digits (AMT's HTTP_DIGEST_MD5_A1)
  ChangeResult setHostFqdn(std::string_view fqdn);             // at most 255 characters
  ChangeResult setEnterpriseAccess(const EnterpriseAccess& access);
  ChangeResult setUserInitiatedConnection(bool requested);
  // The CIRA tunnel's live status (firmware/cira), for AMTHI and WS-Man: held in memory only, because a tunnel does
  // not outlive the process and a fleet's connect storm must not write every device's platform.json. Observers
  // are not run; userInitiatedConnectionRequested is kept (a request is the host's, made by
  // setUserInitiatedConnection).
  void setTunnelStatus(const RemoteAccessStatus& live);
  ChangeResult setAmtCertificateHash(HashAlgorithm alg, std::vector<std::uint8_t> hash);
  // The host rebooted at `now` (firmware clock, Unix seconds), by a way the power state machine does not see:
  // renewOsAdminPasswordOnBoot as its own change (the power state machine renews it in the change that records
  // the boot).
  ChangeResult hostRebooted(std::int64_t now);
  // Any other change, all-or-nothing: `change` edits a copy; it is kept only if it persists.
  ChangeResult update(const std::function<void(PlatformState&)>& change);

  // --- observing ---
  // How many unprovisions and factory resets this object has made. What the firmware keeps outside
  // platform.json (event subscriptions, agent-presence watchdogs, a certificate chain being sent) is wiped by
  // its owner when an observer sees this change (app/device.cpp).
  std::uint64_t configurationResets() const { return configurationResets_; }
  using Observer = std::function<void()>;
  // `observer` runs after every successful change. Returns a token for unsubscribe().
  std::size_t subscribe(Observer observer);
  void unsubscribe(std::size_t token);

 private:
  PlatformModel(StateStore store, PlatformState state);
  ChangeResult commit(PlatformState next);
  ChangeResult commitReset(PlatformState next);  // commit, counted in configurationResets() before observers run

  StateStore store_;
  PlatformState state_;
  std::string lastError_;
  std::string factoryAdminHa1_;  // HA1 of the configured --admin-password
  std::map<std::size_t, Observer> observers_;
  std::size_t nextToken_ = 1;
  std::uint64_t configurationResets_ = 0;
  log::Context log_;
};

}  // namespace mesim::platform
