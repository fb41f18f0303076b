// The rules of AMT's third-party data storage (docs/3pds.md): registration against an enterprise, sessions that
// time out, blocks within the per-application and per-area quotas, transfers of at most one MTU, locks that time out,
// hidden blocks and permission groups, and the administration (global attributes, EACL, FPACL/NACL, removal).
// A ThirdPartyStorage works on a state and a session table it is given, at one firmware-clock instant (idle sessions
// and locks past their timeouts are dropped when it is made); each method returns the SDK's PT_STATUS value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/platform/third_party_storage_state.h"

namespace mesim::platform {

namespace tpds_status {  // PT_STATUS values of the AMT SDK
inline constexpr std::uint32_t kSuccess = 0;
inline constexpr std::uint32_t kInternalError = 1;
inline constexpr std::uint32_t kApplicationNotRegistered = 0x08;
inline constexpr std::uint32_t kInvalidRegistrationData = 0x09;
inline constexpr std::uint32_t kApplicationDoesNotExist = 0x0A;
inline constexpr std::uint32_t kNotEnoughStorage = 0x0B;
inline constexpr std::uint32_t kInvalidName = 0x0C;
inline constexpr std::uint32_t kBlockDoesNotExist = 0x0D;
inline constexpr std::uint32_t kInvalidByteOffset = 0x0E;
inline constexpr std::uint32_t kInvalidByteCount = 0x0F;
inline constexpr std::uint32_t kNotPermitted = 0x10;
inline constexpr std::uint32_t kNotOwner = 0x11;
inline constexpr std::uint32_t kBlockLockedByOther = 0x12;
inline constexpr std::uint32_t kBlockNotLocked = 0x13;
inline constexpr std::uint32_t kInvalidGroupPermissions = 0x14;
inline constexpr std::uint32_t kGroupDoesNotExist = 0x15;
inline constexpr std::uint32_t kInvalidMemberCount = 0x16;
inline constexpr std::uint32_t kMaxLimitReached = 0x17;
inline constexpr std::uint32_t kInvalidParameter = 0x24;
inline constexpr std::uint32_t kFlashWriteLimitExceeded = 0x26;
inline constexpr std::uint32_t kInvalidHandle = 0x805;
inline constexpr std::uint32_t kDuplicate = 0x80A;
}  // namespace tpds_status

struct TpdsGlobalAttributes {
  std::uint32_t totalStorage = 0;
  std::uint32_t totalAllocatedStorage = 0;
  std::uint32_t maxPartnerStorage = 0;
  std::uint32_t totalPartnerAllocatedStorage = 0;
  std::uint32_t maxNonPartnerStorage = 0;
  std::uint16_t maxFpaclEntries = 0;
  std::uint16_t maxAslEntries = 0;
  std::uint16_t maxEaclEntries = 0;
  std::uint16_t maxGroupsPerBlock = 0;
  std::uint16_t maxMembersPerGroup = 0;
  std::uint32_t maxNonPartnerTotalAllocationSize = 0;
};

struct TpdsApplicationAttributes {  // AdminGetApplicationAttributes
  TpdsApplication application;
  std::uint32_t currentAllocationSize = 0;
  bool activeSession = false;
  bool partner = false;
};

class ThirdPartyStorage {
 public:
  // Drops the sessions idle for longer than the registration timeout (with their locks) and the idle locks.
  ThirdPartyStorage(ThirdPartyStorageState& state, ThirdPartyStorageSessions& sessions, std::int64_t now);

  // --- AMT_ThirdPartyDataStorageService ---
  // CallerUUID as 32 hex digits; names 1..64 characters; the enterprise must be in the EACL. Identical data
  // registers the same application again and opens a new session for it.
  std::uint32_t registerApplication(const std::string& callerUuidHex, const std::string& vendorName,
                                    const std::string& applicationName, const std::string& enterpriseName, bool local,
                                    std::string& sessionHandle);
  std::uint32_t unregisterApplication(const std::string& session);  // closes the session, releases its locks
  std::uint32_t removeApplication(const std::string& session);      // also frees its blocks and memberships
  std::uint32_t getCurrentApplicationHandle(const std::string& session, std::uint32_t& handle);
  std::uint32_t getRegisteredApplications(const std::string& session, std::vector<std::uint32_t>& handles);
  std::uint32_t getApplicationAttributes(const std::string& session, std::uint32_t application, std::string& vendorName,
                                         std::string& applicationName);
  std::uint32_t getBytesAvailable(const std::string& session, std::uint32_t& bytes);
  std::uint32_t allocateBlock(const std::string& session, std::uint32_t bytesRequested, bool hidden,
                              const std::string& name, std::uint32_t& blockHandle);
  std::uint32_t deallocateBlock(const std::string& session, std::uint32_t block);
  std::uint32_t getAllocatedBlocks(const std::string& session, std::uint32_t owner, std::vector<std::uint32_t>& blocks);
  std::uint32_t getBlockAttributes(const std::string& session, std::uint32_t block, std::uint32_t& size, bool& hidden,
                                   std::string& name);
  std::uint32_t readBlock(const std::string& session, std::uint32_t block, std::uint32_t offset, std::uint32_t count,
                          std::vector<std::uint8_t>& data);
  std::uint32_t writeBlock(const std::string& session, std::uint32_t block, std::uint32_t offset,
                           const std::vector<std::uint8_t>& data, std::uint32_t& bytesWritten);
  std::uint32_t lockBlock(const std::string& session, std::uint32_t block);
  std::uint32_t unlockBlock(const std::string& session, std::uint32_t block);
  std::uint32_t setBlockName(const std::string& session, std::uint32_t block, const std::string& name);
  std::uint32_t setBlockVisibility(const std::string& session, std::uint32_t block, bool hidden);
  std::uint32_t addPermissionsGroup(const std::string& session, std::uint32_t block, std::uint32_t permissions,
                                    const std::string& name, std::uint32_t& groupHandle);
  std::uint32_t removePermissionsGroup(const std::string& session, std::uint32_t block, std::uint32_t group);
  std::uint32_t getPermissionsGroups(const std::string& session, std::uint32_t block, std::vector<std::uint32_t>& groups);
  std::uint32_t getPermissionsGroupAttributes(const std::string& session, std::uint32_t block, std::uint32_t group,
                                              std::string& name, std::uint32_t& permissions);
  std::uint32_t setPermissionsGroupName(const std::string& session, std::uint32_t block, std::uint32_t group,
                                        const std::string& name);
  std::uint32_t setPermissionsGroupPermissions(const std::string& session, std::uint32_t block, std::uint32_t group,
                                               std::uint32_t permissions);
  std::uint32_t addPermissionsGroupMembers(const std::string& session, std::uint32_t block, std::uint32_t group,
                                           const std::vector<std::uint32_t>& members);
  std::uint32_t removePermissionsGroupMembers(const std::string& session, std::uint32_t block, std::uint32_t group,
                                              const std::vector<std::uint32_t>& members);
  std::uint32_t getPermissionsGroupMembers(const std::string& session, std::uint32_t block, std::uint32_t group,
                                           std::vector<std::uint32_t>& members);
  std::uint32_t writeEraseLimit() const { return state_.writesRemaining; }

  // --- AMT_ThirdPartyDataStorageAdministrationService ---
  TpdsGlobalAttributes globalAttributes() const;
  // Each in multiples of 4 KB; the partner area within the total and not below what partners hold in it.
  std::uint32_t setGlobalAttributes(std::optional<std::uint32_t> maxPartnerStorage,
                                    std::optional<std::uint32_t> maxNonPartnerTotalAllocationSize);
  std::vector<std::uint32_t> registeredApplications() const;
  std::uint32_t adminApplicationAttributes(std::uint32_t application, TpdsApplicationAttributes& out) const;
  std::uint32_t adminRemoveApplication(std::uint32_t application);
  std::uint32_t addEaclEntry(const std::string& enterpriseName, std::uint32_t& handle);
  std::vector<std::uint32_t> eaclEntries() const;
  std::uint32_t getEaclEntry(std::uint32_t handle, std::string& enterpriseName) const;
  std::uint32_t removeEaclEntry(std::uint32_t handle);  // refused while an application of the enterprise is registered
  std::uint32_t addFpaclEntry(std::uint32_t attrType, const std::string& applicationName, const std::string& vendorName,
                              bool isPartner, std::uint32_t totalAllocationSize, std::uint32_t& handle);
  std::vector<std::uint32_t> allocEntries() const;
  std::uint32_t getAllocEntry(std::uint32_t handle, TpdsAllocEntry& out) const;
  std::uint32_t updateFpaclEntry(std::uint32_t handle, std::uint32_t newAllocationSize);
  std::uint32_t removeFpaclEntry(std::uint32_t handle);

  // How many bytes `application` holds.
  std::uint32_t allocatedBy(std::uint32_t application) const;

 private:
  TpdsSession* session(const std::string& handle);
  TpdsApplication* application(std::uint32_t handle);
  TpdsBlock* block(std::uint32_t handle);
  const TpdsAllocEntry* allocEntryOf(const TpdsApplication& app) const;
  std::uint32_t limitOf(const TpdsApplication& app) const;
  std::uint32_t partnerAllocated() const;
  std::uint32_t nonPartnerAllocated() const;
  // The session's application (and its activity noted), or the status to return.
  std::uint32_t caller(const std::string& sessionHandle, TpdsApplication*& app);
  // The block as `app` may see it: BLOCK_DOES_NOT_EXIST for a missing one, or a hidden one of another
  // application that is in none of its groups.
  std::uint32_t visibleBlock(const TpdsApplication& app, std::uint32_t handle, TpdsBlock*& out);
  std::uint32_t ownedBlock(const TpdsApplication& app, std::uint32_t handle, TpdsBlock*& out);
  std::uint32_t ownedGroup(const TpdsApplication& app, std::uint32_t block, std::uint32_t group, TpdsBlock*& b,
                           TpdsGroup*& g);
  // 0 none, 1 read, 2 read-write.
  std::uint32_t permissionOf(const TpdsApplication& app, const TpdsBlock& b) const;
  // BLOCK_LOCKED_BY_OTHER when another application holds the block's lock; else notes the holder's activity.
  std::uint32_t checkLock(const TpdsApplication& app, std::uint32_t block);
  void removeApplicationData(std::uint32_t application);
  std::uint32_t newHandle() { return state_.nextHandle++; }

  ThirdPartyStorageState& state_;
  ThirdPartyStorageSessions& sessions_;
  std::int64_t now_;
};

}  // namespace mesim::platform
