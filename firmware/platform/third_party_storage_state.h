// The third-party data storage (3PDS, "ISV storage") of AMT 3-11 (AMT_ThirdPartyDataStorageService and its
// administration service; docs/3pds.md). ThirdPartyStorageState is what AMT keeps in flash and mesim in platform.json:
// the enterprises (EACL), the allocation entries (FPACL for partners, NACL made at a non-partner's first
// registration), the registered applications (ARL) and their blocks with the bytes and permission groups.
// ThirdPartyStorageSessions is what AMT keeps in RAM: open sessions (ASL) and block locks, both lost on a restart.
// Plain data; ThirdPartyStorage (third_party_storage.h) applies the rules, the JSON is third_party_storage_json.cpp's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

// The limits. Those GetGlobalStorageAttributes reports are features.md §3's; the sizes are our choices (docs/3pds.md).
struct TpdsLimits {
  static constexpr std::uint32_t kMtu = 4096;                // GetMTU; a block is a multiple, a transfer at most one
  static constexpr std::uint32_t kTotalStorage = 192 * 1024;  // the SDK's floor is 96 KB; the OEM sets it
  static constexpr std::uint32_t kDefaultMaxPartnerStorage = 96 * 1024;
  static constexpr std::uint32_t kDefaultMaxNonPartnerTotalAllocationSize = 32 * 1024;
  static constexpr std::uint16_t kMaxFpaclEntries = 24;
  static constexpr std::uint16_t kMaxAslEntries = 16;        // concurrent sessions
  static constexpr std::uint16_t kMaxEaclEntries = 4;
  static constexpr std::uint16_t kMaxGroupsPerBlock = 2;
  static constexpr std::uint16_t kMaxMembersPerGroup = 8;
  static constexpr std::uint32_t kRegistrationTimeoutSeconds = 3600;  // an idle session is closed
  static constexpr std::uint32_t kLockTimeoutSeconds = 120;           // an idle lock is released
  static constexpr std::uint32_t kWriteEraseLimit = 100000;           // writes before the wear-out protection stops them
  static constexpr std::size_t kMaxNameLength = 64;       // vendor, application and enterprise names
  static constexpr std::size_t kMaxBlockNameLength = 32;  // block and group names
};

struct TpdsEnterprise {  // an EACL entry
  std::uint32_t handle = 0;
  std::string name;
  bool operator==(const TpdsEnterprise&) const = default;
};

struct TpdsAllocEntry {  // an FPACL (partner) or NACL (non-partner) entry
  std::uint32_t handle = 0;
  std::string vendorName;
  std::string applicationName;
  bool partner = false;
  std::uint32_t totalAllocationSize = 0;  // FPACL only: what one application of this kind may allocate
  bool operator==(const TpdsAllocEntry&) const = default;
};

struct TpdsApplication {  // an ARL entry
  std::uint32_t handle = 0;
  std::vector<std::uint8_t> uuid;  // CallerUUID, 16 bytes
  std::string vendorName;
  std::string applicationName;
  std::string enterpriseName;
  bool local = false;  // registered over the local interface; the other interface is then refused
  bool operator==(const TpdsApplication&) const = default;
};

struct TpdsGroup {
  std::uint32_t handle = 0;
  std::string name;
  std::uint32_t permissions = 1;  // 1 read, 2 read-write
  std::vector<std::uint32_t> members;  // application handles
  bool operator==(const TpdsGroup&) const = default;
};

struct TpdsBlock {
  std::uint32_t handle = 0;
  std::uint32_t owner = 0;  // application handle
  std::string name;
  bool hidden = false;
  bool partnerArea = false;  // counted in the partner area (a partner's block while that area had room)
  std::vector<std::uint8_t> data;  // the block's size in bytes, zeros until written
  std::vector<TpdsGroup> groups;
  bool operator==(const TpdsBlock&) const = default;
};

struct ThirdPartyStorageState {
  std::uint32_t maxPartnerStorage = TpdsLimits::kDefaultMaxPartnerStorage;
  std::uint32_t maxNonPartnerTotalAllocationSize = TpdsLimits::kDefaultMaxNonPartnerTotalAllocationSize;
  std::uint32_t writesRemaining = TpdsLimits::kWriteEraseLimit;  // GetWriteEraseLimit
  std::uint32_t nextHandle = 1;  // one counter for every kind of handle
  std::vector<TpdsEnterprise> enterprises;
  std::vector<TpdsAllocEntry> allocEntries;
  std::vector<TpdsApplication> applications;
  std::vector<TpdsBlock> blocks;
  bool operator==(const ThirdPartyStorageState&) const = default;
};

struct TpdsSession {  // an ASL entry
  std::string handle;  // SessionHandle, hex
  std::uint32_t application = 0;
  std::int64_t lastActivity = 0;  // firmware-clock seconds
};

struct TpdsLock {
  std::uint32_t block = 0;
  std::uint32_t application = 0;
  std::int64_t lastActivity = 0;
};

struct ThirdPartyStorageSessions {
  std::vector<TpdsSession> sessions;
  std::vector<TpdsLock> locks;
  std::uint64_t opened = 0;  // sessions opened since start: part of each new handle
};

}  // namespace mesim::platform
