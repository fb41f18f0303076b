// The 3PDS rules (firmware/platform/third_party_storage.h; docs/3pds.md): registration against the EACL, quotas per
// application and per area, MTU-sized transfers, locks, hidden blocks and permission groups, timeouts on the firmware
// clock (seconds given to each ThirdPartyStorage), the administration, and the state's JSON round trip.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "firmware/platform/third_party_storage.h"
#include "firmware/platform/third_party_storage_json.h"

namespace mesim::platform {
namespace {

using namespace tpds_status;
using L = TpdsLimits;

class ThirdPartyStorageTest : public ::testing::Test {
 protected:
  ThirdPartyStorageState state;
  ThirdPartyStorageSessions sessions;
  std::int64_t now = 1000;

  ThirdPartyStorage storage() { return ThirdPartyStorage(state, sessions, now); }

  void SetUp() override {
    std::uint32_t h = 0;
    ASSERT_EQ(storage().addEaclEntry("Contoso", h), kSuccess);
  }

  std::string registerApp(const std::string& vendor, const std::string& app,
                          const std::string& uuid = "00112233445566778899aabbccddeeff") {
    std::string session;
    EXPECT_EQ(storage().registerApplication(uuid, vendor, app, "Contoso", false, session), kSuccess);
    EXPECT_FALSE(session.empty());
    return session;
  }
  std::uint32_t appHandle(const std::string& session) {
    std::uint32_t h = 0;
    EXPECT_EQ(storage().getCurrentApplicationHandle(session, h), kSuccess);
    return h;
  }
  std::uint32_t allocate(const std::string& session, std::uint32_t bytes, bool hidden = false) {
    std::uint32_t b = 0;
    EXPECT_EQ(storage().allocateBlock(session, bytes, hidden, "blk", b), kSuccess);
    return b;
  }
};

TEST_F(ThirdPartyStorageTest, RegistrationNeedsAnEnterpriseAndValidData) {
  std::string session;
  EXPECT_EQ(storage().registerApplication("00112233445566778899aabbccddeeff", "V", "A", "Fabrikam", false, session),
            kInvalidRegistrationData);
  EXPECT_EQ(storage().registerApplication("0011", "V", "A", "Contoso", false, session), kInvalidRegistrationData);
  EXPECT_EQ(storage().registerApplication("00112233445566778899aabbccddeeff", std::string(65, 'v'), "A", "Contoso", false,
                                          session),
            kInvalidRegistrationData);
  EXPECT_EQ(storage().registerApplication("00112233445566778899aabbccddeeff", "V", "", "Contoso", false, session),
            kInvalidRegistrationData);
  // Identical data registers the same application again, from the same interface only.
  const std::string first = registerApp("V", "A");
  const std::string second = registerApp("V", "A");
  EXPECT_NE(first, second);
  EXPECT_EQ(appHandle(first), appHandle(second));
  EXPECT_EQ(storage().registerApplication("00112233445566778899aabbccddeeff", "V", "A", "Contoso", true, session),
            kInvalidRegistrationData);
  EXPECT_EQ(state.applications.size(), 1u);
  // A non-partner's first registration made its NACL entry.
  ASSERT_EQ(state.allocEntries.size(), 1u);
  EXPECT_FALSE(state.allocEntries[0].partner);
}

TEST_F(ThirdPartyStorageTest, SessionsAreLimitedAndTimeOutOnTheFirmwareClock) {
  std::vector<std::string> open;
  for (int i = 0; i < L::kMaxAslEntries; ++i) open.push_back(registerApp("V", "A"));
  std::string session;
  EXPECT_EQ(storage().registerApplication("00112233445566778899aabbccddeeff", "V", "A", "Contoso", false, session),
            kMaxLimitReached);
  std::uint32_t bytes = 0;
  now += L::kRegistrationTimeoutSeconds - 1;
  EXPECT_EQ(storage().getBytesAvailable(open[0], bytes), kSuccess);  // activity restarts its timer
  now += 2;
  EXPECT_EQ(storage().getBytesAvailable(open[0], bytes), kSuccess);
  EXPECT_EQ(storage().getBytesAvailable(open[1], bytes), kApplicationNotRegistered);  // idle past the timeout
  EXPECT_EQ(sessions.sessions.size(), 1u);
  // The application stays registered with its data; UnregisterApplication closes a session only.
  EXPECT_EQ(state.applications.size(), 1u);
  EXPECT_EQ(storage().unregisterApplication(open[0]), kSuccess);
  EXPECT_EQ(storage().getBytesAvailable(open[0], bytes), kApplicationNotRegistered);
  EXPECT_EQ(state.applications.size(), 1u);
}

TEST_F(ThirdPartyStorageTest, QuotaPerApplicationAndPerArea) {
  const std::string s = registerApp("V", "A");
  std::uint32_t available = 0, block = 0;
  ASSERT_EQ(storage().getBytesAvailable(s, available), kSuccess);
  EXPECT_EQ(available, L::kDefaultMaxNonPartnerTotalAllocationSize);
  EXPECT_EQ(storage().allocateBlock(s, 1000, false, "", block), kInvalidByteCount);  // not a multiple of the MTU
  EXPECT_EQ(storage().allocateBlock(s, 0, false, "", block), kInvalidByteCount);
  EXPECT_EQ(storage().allocateBlock(s, L::kMtu, false, std::string(33, 'n'), block), kInvalidName);
  allocate(s, L::kDefaultMaxNonPartnerTotalAllocationSize - L::kMtu);
  EXPECT_EQ(storage().allocateBlock(s, 2 * L::kMtu, false, "", block), kNotEnoughStorage);
  allocate(s, L::kMtu);
  ASSERT_EQ(storage().getBytesAvailable(s, available), kSuccess);
  EXPECT_EQ(available, 0u);

  // The non-partner area (total - partner area) caps all non-partners together.
  const std::string t = registerApp("V", "B"), u = registerApp("V", "C");
  allocate(t, L::kDefaultMaxNonPartnerTotalAllocationSize);
  const std::uint32_t left = L::kTotalStorage - L::kDefaultMaxPartnerStorage - 2 * L::kDefaultMaxNonPartnerTotalAllocationSize;
  ASSERT_EQ(storage().getBytesAvailable(u, available), kSuccess);
  EXPECT_EQ(available, left);
  EXPECT_EQ(storage().allocateBlock(u, left + L::kMtu, false, "", block), kNotEnoughStorage);

  // A partner (FPACL) gets its own size from the partner area.
  std::uint32_t fpacl = 0;
  ASSERT_EQ(storage().addFpaclEntry(1, "P", "V", true, 64 * 1024, fpacl), kSuccess);
  const std::string p = registerApp("V", "P");
  allocate(p, 64 * 1024);
  const auto global = storage().globalAttributes();
  EXPECT_EQ(global.totalPartnerAllocatedStorage, 64u * 1024);
  EXPECT_EQ(global.totalAllocatedStorage, 64u * 1024 + 2 * L::kDefaultMaxNonPartnerTotalAllocationSize);
  EXPECT_EQ(global.maxFpaclEntries, 24);
  EXPECT_EQ(global.maxAslEntries, 16);
  EXPECT_EQ(global.maxEaclEntries, 4);
  EXPECT_EQ(global.maxGroupsPerBlock, 2);
  EXPECT_EQ(global.maxMembersPerGroup, 8);
  // The FPACL entry cannot shrink below what its application holds, nor go while it is registered.
  EXPECT_EQ(storage().updateFpaclEntry(fpacl, 32 * 1024), kNotPermitted);
  EXPECT_EQ(storage().updateFpaclEntry(fpacl, 128 * 1024), kSuccess);
  EXPECT_EQ(storage().removeFpaclEntry(fpacl), kNotPermitted);
  // Nor can the partner area shrink below what partners hold.
  EXPECT_EQ(storage().setGlobalAttributes(32 * 1024, std::nullopt), kInvalidParameter);
  EXPECT_EQ(storage().setGlobalAttributes(1000, std::nullopt), kInvalidParameter);
  EXPECT_EQ(storage().setGlobalAttributes(std::nullopt, 48 * 1024), kSuccess);
  EXPECT_EQ(storage().globalAttributes().maxNonPartnerTotalAllocationSize, 48u * 1024);
}

TEST_F(ThirdPartyStorageTest, TransfersAreAtMostOneMtuWithinTheBlock) {
  const std::string s = registerApp("V", "A");
  const std::uint32_t b = allocate(s, 2 * L::kMtu);
  std::uint32_t written = 0;
  std::vector<std::uint8_t> data(L::kMtu, 0x5A), read;
  EXPECT_EQ(storage().writeBlock(s, b, 100, data, written), kSuccess);
  EXPECT_EQ(written, L::kMtu);
  EXPECT_EQ(storage().writeBlock(s, b, 0, std::vector<std::uint8_t>(L::kMtu + 1, 1), written), kInvalidByteCount);
  EXPECT_EQ(written, 0u);
  EXPECT_EQ(storage().writeBlock(s, b, 2 * L::kMtu, {1}, written), kInvalidByteOffset);
  EXPECT_EQ(storage().writeBlock(s, b, 2 * L::kMtu - 1, {1, 2}, written), kInvalidByteCount);
  EXPECT_EQ(storage().writeBlock(s, b, 0, {}, written), kInvalidByteCount);
  EXPECT_EQ(storage().readBlock(s, b, 0, L::kMtu + 1, read), kInvalidByteCount);
  EXPECT_EQ(storage().readBlock(s, b, 0, 0, read), kInvalidByteCount);
  ASSERT_EQ(storage().readBlock(s, b, 99, 3, read), kSuccess);
  EXPECT_EQ(read, (std::vector<std::uint8_t>{0, 0x5A, 0x5A}));
  std::uint32_t size = 0;
  bool hidden = true;
  std::string name;
  ASSERT_EQ(storage().getBlockAttributes(s, b, size, hidden, name), kSuccess);
  EXPECT_EQ(size, 2 * L::kMtu);
  EXPECT_FALSE(hidden);
  EXPECT_EQ(name, "blk");
  EXPECT_EQ(storage().setBlockName(s, b, "renamed"), kSuccess);
  ASSERT_EQ(storage().getBlockAttributes(s, b, size, hidden, name), kSuccess);
  EXPECT_EQ(name, "renamed");
  // The flash wear-out protection stops writes at the limit.
  state.writesRemaining = 1;
  EXPECT_EQ(storage().writeBlock(s, b, 0, {1}, written), kSuccess);
  EXPECT_EQ(storage().writeEraseLimit(), 0u);
  EXPECT_EQ(storage().writeBlock(s, b, 0, {1}, written), kFlashWriteLimitExceeded);
}

TEST_F(ThirdPartyStorageTest, LocksKeepOthersOutUntilUnlockOrTimeout) {
  const std::string owner = registerApp("V", "A"), other = registerApp("V", "B");
  const std::uint32_t b = allocate(owner, L::kMtu);
  std::uint32_t group = 0, written = 0;
  ASSERT_EQ(storage().addPermissionsGroup(owner, b, 2, "rw", group), kSuccess);
  ASSERT_EQ(storage().addPermissionsGroupMembers(owner, b, group, {appHandle(other)}), kSuccess);
  EXPECT_EQ(storage().unlockBlock(owner, b), kBlockNotLocked);
  ASSERT_EQ(storage().lockBlock(owner, b), kSuccess);
  EXPECT_EQ(storage().lockBlock(owner, b), kSuccess);  // again by the holder
  EXPECT_EQ(storage().lockBlock(other, b), kBlockLockedByOther);
  EXPECT_EQ(storage().writeBlock(other, b, 0, {1}, written), kBlockLockedByOther);
  EXPECT_EQ(storage().unlockBlock(other, b), kBlockLockedByOther);
  ASSERT_EQ(storage().unlockBlock(owner, b), kSuccess);
  EXPECT_EQ(storage().writeBlock(other, b, 0, {1}, written), kSuccess);

  // An idle lock is released after the lock timeout; the holder's reads and writes restart its timer.
  ASSERT_EQ(storage().lockBlock(owner, b), kSuccess);
  now += L::kLockTimeoutSeconds - 1;
  EXPECT_EQ(storage().writeBlock(owner, b, 0, {2}, written), kSuccess);
  now += L::kLockTimeoutSeconds - 1;
  EXPECT_EQ(storage().writeBlock(other, b, 0, {1}, written), kBlockLockedByOther);
  now += 1;
  EXPECT_EQ(storage().writeBlock(other, b, 0, {1}, written), kSuccess);
  // Unregistering releases the session's locks.
  ASSERT_EQ(storage().lockBlock(owner, b), kSuccess);
  ASSERT_EQ(storage().unregisterApplication(owner), kSuccess);
  EXPECT_EQ(storage().lockBlock(other, b), kSuccess);
}

TEST_F(ThirdPartyStorageTest, PermissionGroupsAndHiddenBlocks) {
  const std::string owner = registerApp("V", "A"), reader = registerApp("V", "B"), stranger = registerApp("V", "C");
  const std::uint32_t ownerHandle = appHandle(owner), readerHandle = appHandle(reader);
  const std::uint32_t b = allocate(owner, L::kMtu);
  std::vector<std::uint8_t> data;
  std::uint32_t written = 0, group = 0, permissions = 0;
  std::vector<std::uint32_t> list;
  // Visible but not shared: listed and described, not readable.
  ASSERT_EQ(storage().getAllocatedBlocks(stranger, ownerHandle, list), kSuccess);
  EXPECT_EQ(list, std::vector<std::uint32_t>{b});
  EXPECT_EQ(storage().readBlock(stranger, b, 0, 1, data), kNotPermitted);
  // Groups: the owner's only, permissions 1 or 2, at most two per block, members 1..8 registered applications.
  EXPECT_EQ(storage().addPermissionsGroup(reader, b, 1, "", group), kNotOwner);
  EXPECT_EQ(storage().addPermissionsGroup(owner, b, 3, "", group), kInvalidGroupPermissions);
  ASSERT_EQ(storage().addPermissionsGroup(owner, b, 1, "readers", group), kSuccess);
  std::uint32_t second = 0, third = 0;
  ASSERT_EQ(storage().addPermissionsGroup(owner, b, 2, "", second), kSuccess);
  EXPECT_EQ(storage().addPermissionsGroup(owner, b, 2, "", third), kMaxLimitReached);
  EXPECT_EQ(storage().removePermissionsGroup(owner, b, second), kSuccess);
  EXPECT_EQ(storage().removePermissionsGroup(owner, b, second), kGroupDoesNotExist);
  EXPECT_EQ(storage().addPermissionsGroupMembers(owner, b, group, {}), kInvalidMemberCount);
  EXPECT_EQ(storage().addPermissionsGroupMembers(owner, b, group, {9999}), kApplicationDoesNotExist);
  EXPECT_EQ(storage().addPermissionsGroupMembers(owner, b, group, {1, 2, 3, 4, 5, 6, 7, 8, 9}), kApplicationDoesNotExist);
  ASSERT_EQ(storage().addPermissionsGroupMembers(owner, b, group, {readerHandle}), kSuccess);
  ASSERT_EQ(storage().getPermissionsGroupMembers(stranger, b, group, list), kSuccess);
  EXPECT_EQ(list, std::vector<std::uint32_t>{readerHandle});
  std::string name;
  ASSERT_EQ(storage().getPermissionsGroupAttributes(reader, b, group, name, permissions), kSuccess);
  EXPECT_EQ(name, "readers");
  EXPECT_EQ(permissions, 1u);
  // Read permission reads, does not write; read-write writes.
  EXPECT_EQ(storage().readBlock(reader, b, 0, 1, data), kSuccess);
  EXPECT_EQ(storage().writeBlock(reader, b, 0, {1}, written), kNotPermitted);
  ASSERT_EQ(storage().setPermissionsGroupPermissions(owner, b, group, 2), kSuccess);
  EXPECT_EQ(storage().writeBlock(reader, b, 0, {1}, written), kSuccess);
  // Hidden: gone for everyone but the owner and the members (who still read it), and unlisted but to the owner.
  ASSERT_EQ(storage().setBlockVisibility(owner, b, true), kSuccess);
  ASSERT_EQ(storage().getAllocatedBlocks(stranger, ownerHandle, list), kSuccess);
  EXPECT_TRUE(list.empty());
  ASSERT_EQ(storage().getAllocatedBlocks(reader, ownerHandle, list), kSuccess);
  EXPECT_TRUE(list.empty());
  ASSERT_EQ(storage().getAllocatedBlocks(owner, ownerHandle, list), kSuccess);
  EXPECT_EQ(list, std::vector<std::uint32_t>{b});
  EXPECT_EQ(storage().readBlock(stranger, b, 0, 1, data), kBlockDoesNotExist);
  EXPECT_EQ(storage().getPermissionsGroups(stranger, b, list), kBlockDoesNotExist);
  EXPECT_EQ(storage().readBlock(reader, b, 0, 1, data), kSuccess);
  EXPECT_EQ(storage().deallocateBlock(reader, b), kNotOwner);
  // Removing members takes the right away.
  ASSERT_EQ(storage().removePermissionsGroupMembers(owner, b, group, {readerHandle}), kSuccess);
  EXPECT_EQ(storage().readBlock(reader, b, 0, 1, data), kBlockDoesNotExist);
  EXPECT_EQ(storage().removePermissionsGroupMembers(owner, b, group, {readerHandle}), kApplicationDoesNotExist);
}

TEST_F(ThirdPartyStorageTest, VendorScopedListsAndRemoval) {
  const std::string a = registerApp("V", "A"), b = registerApp("V", "B"), w = registerApp("W", "X");
  std::vector<std::uint32_t> list;
  ASSERT_EQ(storage().getRegisteredApplications(a, list), kSuccess);
  EXPECT_EQ(list, (std::vector<std::uint32_t>{appHandle(a), appHandle(b)}));
  std::string vendor, app;
  EXPECT_EQ(storage().getApplicationAttributes(a, appHandle(w), vendor, app), kApplicationDoesNotExist);
  ASSERT_EQ(storage().getApplicationAttributes(a, appHandle(b), vendor, app), kSuccess);
  EXPECT_EQ(app, "B");
  // RemoveApplication frees its blocks and its memberships; the enterprise cannot go while applications use it.
  const std::uint32_t aHandle = appHandle(a), wHandle = appHandle(w);
  const std::uint32_t blockOfA = allocate(a, L::kMtu), blockOfB = allocate(b, L::kMtu);
  std::uint32_t group = 0;
  ASSERT_EQ(storage().addPermissionsGroup(b, blockOfB, 1, "", group), kSuccess);
  ASSERT_EQ(storage().addPermissionsGroupMembers(b, blockOfB, group, {aHandle}), kSuccess);
  EXPECT_EQ(storage().removeEaclEntry(state.enterprises[0].handle), kNotPermitted);
  ASSERT_EQ(storage().removeApplication(a), kSuccess);
  EXPECT_EQ(storage().getBytesAvailable(a, group), kApplicationNotRegistered);
  EXPECT_TRUE(std::none_of(state.blocks.begin(), state.blocks.end(), [&](const TpdsBlock& x) { return x.handle == blockOfA; }));
  EXPECT_TRUE(state.blocks[0].groups[0].members.empty());
  // Admin removal and attributes.
  TpdsApplicationAttributes attributes;
  ASSERT_EQ(storage().adminApplicationAttributes(wHandle, attributes), kSuccess);
  EXPECT_TRUE(attributes.activeSession);
  EXPECT_FALSE(attributes.partner);
  EXPECT_EQ(attributes.application.enterpriseName, "Contoso");
  ASSERT_EQ(storage().adminRemoveApplication(wHandle), kSuccess);
  EXPECT_EQ(storage().adminRemoveApplication(wHandle), kApplicationDoesNotExist);
  EXPECT_EQ(storage().registeredApplications(), std::vector<std::uint32_t>{appHandle(b)});
  // The NACL entries of removed kinds went with them.
  EXPECT_EQ(state.allocEntries.size(), 1u);
}

TEST_F(ThirdPartyStorageTest, EnterpriseList) {
  std::uint32_t h = 0;
  EXPECT_EQ(storage().addEaclEntry("Contoso", h), kDuplicate);
  for (int i = 1; i < L::kMaxEaclEntries; ++i) ASSERT_EQ(storage().addEaclEntry("E" + std::to_string(i), h), kSuccess);
  EXPECT_EQ(storage().addEaclEntry("one too many", h), kMaxLimitReached);
  std::string name;
  ASSERT_EQ(storage().getEaclEntry(h, name), kSuccess);
  EXPECT_EQ(name, "E3");
  EXPECT_EQ(storage().removeEaclEntry(h), kSuccess);
  EXPECT_EQ(storage().getEaclEntry(h, name), kInvalidHandle);
  EXPECT_EQ(storage().eaclEntries().size(), 3u);
}

TEST_F(ThirdPartyStorageTest, StateRoundTripsThroughJson) {
  const std::string s = registerApp("V", "A");
  const std::uint32_t b = allocate(s, L::kMtu, true);
  std::uint32_t written = 0, group = 0;
  ASSERT_EQ(storage().writeBlock(s, b, 10, {1, 2, 3}, written), kSuccess);
  ASSERT_EQ(storage().addPermissionsGroup(s, b, 2, "g", group), kSuccess);
  ASSERT_EQ(storage().addPermissionsGroupMembers(s, b, group, {appHandle(s)}), kSuccess);
  const auto text = boost::json::serialize(thirdPartyStorageToJson(state));
  ThirdPartyStorageState back;
  ASSERT_TRUE(thirdPartyStorageFromJson(boost::json::parse(text), back));
  EXPECT_EQ(back, state);

  // A state that breaks the limits is refused, naming the field.
  auto bad = thirdPartyStorageToJson(state);
  bad.as_object()["blocks"].as_array()[0].as_object()["size"] = 100;
  auto r = thirdPartyStorageFromJson(bad, back);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("thirdPartyStorage.blocks[0]"), std::string::npos) << r.error().message;
  bad = thirdPartyStorageToJson(state);
  bad.as_object()["nextHandle"] = 1;
  EXPECT_FALSE(thirdPartyStorageFromJson(bad, back));
}

}  // namespace
}  // namespace mesim::platform
