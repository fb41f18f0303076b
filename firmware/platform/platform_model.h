// The one source of truth for the simulated platform (ARCHITECTURE.md). Persisted in the state dir by a
// StateStore (`platform.json` and the two log files), created on first start and reused after. Every change
// is on disk before it becomes visible, so kill -9 at any instant leaves a loadable state.
// Single-threaded: use it from the event loop only. No singletons: one instance per simulated device.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
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
  std::string hostName = "mesim";
  std::string domainName = "example.com";
  FirmwareVersion firmwareVersion{16, 1, 27, 2225};
};

// Outcome of a change. The model logs storage errors once; callers map the rest to protocol statuses.
enum class ChangeResult { Ok, InvalidState, InvalidParameter, StorageError };
const char* toString(ChangeResult result);

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
  // Back to pre-provisioning. InvalidState in admin control mode (AMTHI may not undo ACM; rpc-go).
  ChangeResult unprovision();
  // Host-based setup begins: pre -> in. InvalidState unless pre-provisioned.
  ChangeResult startHostBasedConfiguration(const HostBasedSetup& setup);
  // Abandons an unfinished configuration: in -> pre. InvalidState unless in-provisioning.
  ChangeResult stopConfiguration();
  // Provisioning completed (WS-Man setup): -> post in `mode` (Client or Admin).
  ChangeResult completeProvisioning(ControlMode mode);
  ChangeResult setAdminPassword(std::string_view password);
  ChangeResult setAdminPasswordHash(std::string_view ha1Hex);  // 32 hex digits (AMT's HTTP_DIGEST_MD5_A1)
  ChangeResult setHostFqdn(std::string_view fqdn);             // at most 255 characters
  ChangeResult setEnterpriseAccess(const EnterpriseAccess& access);
  ChangeResult setUserInitiatedConnection(bool requested);
  ChangeResult setAmtCertificateHash(HashAlgorithm alg, std::vector<std::uint8_t> hash);
  // Any other change, all-or-nothing: `change` edits a copy; it is kept only if it persists.
  ChangeResult update(const std::function<void(PlatformState&)>& change);

  // --- observing ---
  using Observer = std::function<void()>;
  // `observer` runs after every successful change. Returns a token for unsubscribe().
  std::size_t subscribe(Observer observer);
  void unsubscribe(std::size_t token);

 private:
  PlatformModel(StateStore store, PlatformState state);
  ChangeResult commit(PlatformState next);

  StateStore store_;
  PlatformState state_;
  std::string lastError_;
  std::map<std::size_t, Observer> observers_;
  std::size_t nextToken_ = 1;
  log::Context log_;
};

}  // namespace mesim::platform
