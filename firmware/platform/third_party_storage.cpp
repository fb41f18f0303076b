#include "firmware/platform/third_party_storage.h"

#include <algorithm>
#include <random>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace {

using namespace tpds_status;
using L = TpdsLimits;
constexpr std::uint32_t k4KB = 4096;

bool validName(const std::string& name, std::size_t maxLength, bool mayBeEmpty) {
  if (name.empty()) return mayBeEmpty;
  return name.size() <= maxLength && text::isValidUtf8(name) &&
         std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// The handles of a list's entries, in order (the Enumerate* / Get*s answers).
template <class List>
std::vector<std::uint32_t> handlesOf(const List& list) {
  std::vector<std::uint32_t> out;
  for (const auto& e : list) out.push_back(e.handle);
  return out;
}

template <class List, class Pred>
auto findIf(List& list, Pred pred) -> decltype(&*list.begin()) {
  auto it = std::find_if(list.begin(), list.end(), pred);
  return it == list.end() ? nullptr : &*it;
}

}  // namespace

ThirdPartyStorage::ThirdPartyStorage(ThirdPartyStorageState& state, ThirdPartyStorageSessions& sessions, std::int64_t now)
    : state_(state), sessions_(sessions), now_(now) {
  std::vector<std::uint32_t> closed;
  std::erase_if(sessions_.sessions, [&](const TpdsSession& s) {
    if (now_ - s.lastActivity < L::kRegistrationTimeoutSeconds) return false;
    closed.push_back(s.application);
    return true;
  });
  std::erase_if(sessions_.locks, [&](const TpdsLock& l) {
    const bool ownerGone = std::find(closed.begin(), closed.end(), l.application) != closed.end() &&
                           std::none_of(sessions_.sessions.begin(), sessions_.sessions.end(),
                                        [&](const TpdsSession& s) { return s.application == l.application; });
    return ownerGone || now_ - l.lastActivity >= L::kLockTimeoutSeconds;
  });
}

// --- lookups ---

TpdsSession* ThirdPartyStorage::session(const std::string& handle) {
  if (handle.empty()) return nullptr;
  return findIf(sessions_.sessions, [&](const TpdsSession& s) { return s.handle == handle; });
}
TpdsApplication* ThirdPartyStorage::application(std::uint32_t handle) {
  return findIf(state_.applications, [&](const TpdsApplication& a) { return a.handle == handle; });
}
TpdsBlock* ThirdPartyStorage::block(std::uint32_t handle) {
  return findIf(state_.blocks, [&](const TpdsBlock& b) { return b.handle == handle; });
}
const TpdsAllocEntry* ThirdPartyStorage::allocEntryOf(const TpdsApplication& app) const {
  return findIf(state_.allocEntries, [&](const TpdsAllocEntry& e) {
    return e.vendorName == app.vendorName && e.applicationName == app.applicationName;
  });
}

std::uint32_t ThirdPartyStorage::limitOf(const TpdsApplication& app) const {
  const TpdsAllocEntry* entry = allocEntryOf(app);
  if (entry && entry->partner) return entry->totalAllocationSize;
  return state_.maxNonPartnerTotalAllocationSize;
}

std::uint32_t ThirdPartyStorage::allocatedBy(std::uint32_t app) const {
  std::uint32_t total = 0;
  for (const auto& b : state_.blocks)
    if (b.owner == app) total += static_cast<std::uint32_t>(b.data.size());
  return total;
}
std::uint32_t ThirdPartyStorage::partnerAllocated() const {
  std::uint32_t total = 0;
  for (const auto& b : state_.blocks)
    if (b.partnerArea) total += static_cast<std::uint32_t>(b.data.size());
  return total;
}
std::uint32_t ThirdPartyStorage::nonPartnerAllocated() const {
  std::uint32_t total = 0;
  for (const auto& b : state_.blocks)
    if (!b.partnerArea) total += static_cast<std::uint32_t>(b.data.size());
  return total;
}

std::uint32_t ThirdPartyStorage::caller(const std::string& sessionHandle, TpdsApplication*& app) {
  TpdsSession* s = session(sessionHandle);
  if (!s) return kApplicationNotRegistered;
  app = application(s->application);
  if (!app) return kApplicationNotRegistered;
  s->lastActivity = now_;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::permissionOf(const TpdsApplication& app, const TpdsBlock& b) const {
  if (b.owner == app.handle) return 2;
  std::uint32_t best = 0;
  for (const auto& g : b.groups)
    if (std::find(g.members.begin(), g.members.end(), app.handle) != g.members.end()) best = std::max(best, g.permissions);
  return best;
}

std::uint32_t ThirdPartyStorage::visibleBlock(const TpdsApplication& app, std::uint32_t handle, TpdsBlock*& out) {
  out = block(handle);
  if (!out) return kBlockDoesNotExist;
  // A hidden block exists only for its owner and the members of its groups (the SDK's SetBlockVisibility).
  if (out->hidden && permissionOf(app, *out) == 0) return kBlockDoesNotExist;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::ownedBlock(const TpdsApplication& app, std::uint32_t handle, TpdsBlock*& out) {
  if (auto rv = visibleBlock(app, handle, out)) return rv;
  return out->owner == app.handle ? kSuccess : kNotOwner;
}

std::uint32_t ThirdPartyStorage::ownedGroup(const TpdsApplication& app, std::uint32_t blockHandle, std::uint32_t group,
                                            TpdsBlock*& b, TpdsGroup*& g) {
  if (auto rv = ownedBlock(app, blockHandle, b)) return rv;
  g = findIf(b->groups, [&](const TpdsGroup& x) { return x.handle == group; });
  return g ? kSuccess : kGroupDoesNotExist;
}

std::uint32_t ThirdPartyStorage::checkLock(const TpdsApplication& app, std::uint32_t blockHandle) {
  TpdsLock* lock = findIf(sessions_.locks, [&](const TpdsLock& l) { return l.block == blockHandle; });
  if (!lock) return kSuccess;
  if (lock->application != app.handle) return kBlockLockedByOther;
  lock->lastActivity = now_;  // ReadBlock, WriteBlock and LockBlock reset the lock's timer
  return kSuccess;
}

void ThirdPartyStorage::removeApplicationData(std::uint32_t app) {
  std::vector<std::uint32_t> freed;
  for (const auto& b : state_.blocks)
    if (b.owner == app) freed.push_back(b.handle);
  std::erase_if(state_.blocks, [&](const TpdsBlock& b) { return b.owner == app; });
  for (auto& b : state_.blocks)
    for (auto& g : b.groups) std::erase(g.members, app);
  std::erase_if(sessions_.locks, [&](const TpdsLock& l) {
    return l.application == app || std::find(freed.begin(), freed.end(), l.block) != freed.end();
  });
  std::erase_if(sessions_.sessions, [&](const TpdsSession& s) { return s.application == app; });
  const TpdsApplication* gone = application(app);
  if (!gone) return;
  const std::string vendor = gone->vendorName, name = gone->applicationName;
  std::erase_if(state_.applications, [&](const TpdsApplication& a) { return a.handle == app; });
  // A NACL entry lives as long as an application of its kind is registered; FPACL entries stay.
  const bool kindLeft = std::any_of(state_.applications.begin(), state_.applications.end(), [&](const TpdsApplication& a) {
    return a.vendorName == vendor && a.applicationName == name;
  });
  if (!kindLeft)
    std::erase_if(state_.allocEntries, [&](const TpdsAllocEntry& e) {
      return !e.partner && e.vendorName == vendor && e.applicationName == name;
    });
}

// --- the storage service ---

std::uint32_t ThirdPartyStorage::registerApplication(const std::string& callerUuidHex, const std::string& vendorName,
                                                     const std::string& applicationName,
                                                     const std::string& enterpriseName, bool local,
                                                     std::string& sessionHandle) {
  auto uuid = text::fromHex(callerUuidHex);
  if (!uuid || uuid->size() != 16 || !validName(vendorName, L::kMaxNameLength, false) ||
      !validName(applicationName, L::kMaxNameLength, false) || !validName(enterpriseName, L::kMaxNameLength, false))
    return kInvalidRegistrationData;
  // Storage is for the enterprise that owns the machine: its name must have been put in the EACL first.
  if (std::none_of(state_.enterprises.begin(), state_.enterprises.end(),
                   [&](const TpdsEnterprise& e) { return e.name == enterpriseName; }))
    return kInvalidRegistrationData;
  TpdsApplication* app = findIf(state_.applications, [&](const TpdsApplication& a) {
    return a.uuid == *uuid && a.vendorName == vendorName && a.applicationName == applicationName &&
           a.enterpriseName == enterpriseName;
  });
  // "registration attempts with identical registration data from a different interface will be rejected"
  if (app && app->local != local) return kInvalidRegistrationData;
  if (sessions_.sessions.size() >= L::kMaxAslEntries) return kMaxLimitReached;
  if (!app) {
    const TpdsAllocEntry* entry = findIf(state_.allocEntries, [&](const TpdsAllocEntry& e) {
      return e.vendorName == vendorName && e.applicationName == applicationName;
    });
    if (!entry) {  // a non-partner's first registration makes its NACL entry
      state_.allocEntries.push_back({newHandle(), vendorName, applicationName, false, 0});
    }
    state_.applications.push_back({newHandle(), *uuid, vendorName, applicationName, enterpriseName, local});
    app = &state_.applications.back();
  }
  std::random_device random;
  std::vector<std::uint8_t> bytes(16);
  for (auto& b : bytes) b = static_cast<std::uint8_t>(random());
  const std::uint64_t serial = ++sessions_.opened;
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(serial >> (8 * (7 - i)));  // unique per start
  sessionHandle = text::toHex(bytes, text::LetterCase::Upper);
  sessions_.sessions.push_back({sessionHandle, app->handle, now_});
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::unregisterApplication(const std::string& sessionHandle) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  const std::uint32_t handle = app->handle;
  std::erase_if(sessions_.sessions, [&](const TpdsSession& s) { return s.handle == sessionHandle; });
  if (std::none_of(sessions_.sessions.begin(), sessions_.sessions.end(),
                   [&](const TpdsSession& s) { return s.application == handle; }))
    std::erase_if(sessions_.locks, [&](const TpdsLock& l) { return l.application == handle; });
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::removeApplication(const std::string& sessionHandle) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  removeApplicationData(app->handle);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getCurrentApplicationHandle(const std::string& sessionHandle, std::uint32_t& handle) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  handle = app->handle;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getRegisteredApplications(const std::string& sessionHandle,
                                                           std::vector<std::uint32_t>& handles) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  handles.clear();
  for (const auto& a : state_.applications)
    if (a.vendorName == app->vendorName) handles.push_back(a.handle);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getApplicationAttributes(const std::string& sessionHandle, std::uint32_t requested,
                                                          std::string& vendorName, std::string& applicationName) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  const TpdsApplication* other = application(requested);
  if (!other || other->vendorName != app->vendorName) return kApplicationDoesNotExist;  // only the same vendor's
  vendorName = other->vendorName;
  applicationName = other->applicationName;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getBytesAvailable(const std::string& sessionHandle, std::uint32_t& bytes) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  const std::uint32_t held = allocatedBy(app->handle), limit = limitOf(*app);
  const std::uint32_t own = limit > held ? limit - held : 0;
  const std::uint32_t nonPartnerArea = L::kTotalStorage - state_.maxPartnerStorage;
  const std::uint32_t nonPartnerUsed = nonPartnerAllocated();
  std::uint32_t area = nonPartnerArea > nonPartnerUsed ? nonPartnerArea - nonPartnerUsed : 0;
  const TpdsAllocEntry* entry = allocEntryOf(*app);
  if (entry && entry->partner) {
    const std::uint32_t partnerUsed = partnerAllocated();
    area += state_.maxPartnerStorage > partnerUsed ? state_.maxPartnerStorage - partnerUsed : 0;
  }
  bytes = std::min(own, area);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::allocateBlock(const std::string& sessionHandle, std::uint32_t bytesRequested, bool hidden,
                                               const std::string& name, std::uint32_t& blockHandle) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (bytesRequested == 0 || bytesRequested % L::kMtu != 0) return kInvalidByteCount;
  if (!validName(name, L::kMaxBlockNameLength, true)) return kInvalidName;
  if (allocatedBy(app->handle) + std::uint64_t{bytesRequested} > limitOf(*app)) return kNotEnoughStorage;
  // A partner's block goes to the partner area while it has room, then to the non-partner area ("also open to
  // partner applications when partner storage becomes unavailable").
  const TpdsAllocEntry* entry = allocEntryOf(*app);
  bool partnerArea = false;
  if (entry && entry->partner && partnerAllocated() + std::uint64_t{bytesRequested} <= state_.maxPartnerStorage)
    partnerArea = true;
  else if (nonPartnerAllocated() + std::uint64_t{bytesRequested} > L::kTotalStorage - state_.maxPartnerStorage)
    return kNotEnoughStorage;
  blockHandle = newHandle();
  state_.blocks.push_back({blockHandle, app->handle, name, hidden, partnerArea,
                           std::vector<std::uint8_t>(bytesRequested, 0), {}});
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::deallocateBlock(const std::string& sessionHandle, std::uint32_t handle) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedBlock(*app, handle, b)) return rv;
  // The lock does not prevent deallocation: it goes with the block.
  std::erase_if(sessions_.locks, [&](const TpdsLock& l) { return l.block == handle; });
  std::erase_if(state_.blocks, [&](const TpdsBlock& x) { return x.handle == handle; });
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getAllocatedBlocks(const std::string& sessionHandle, std::uint32_t owner,
                                                    std::vector<std::uint32_t>& blocks) {
  TpdsApplication* app = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (!application(owner)) return kApplicationDoesNotExist;
  blocks.clear();
  // Hidden blocks are listed to their owner only, even to members of their groups.
  for (const auto& b : state_.blocks)
    if (b.owner == owner && (!b.hidden || owner == app->handle)) blocks.push_back(b.handle);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getBlockAttributes(const std::string& sessionHandle, std::uint32_t handle,
                                                    std::uint32_t& size, bool& hidden, std::string& name) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (b->hidden && b->owner != app->handle) return kBlockDoesNotExist;
  size = static_cast<std::uint32_t>(b->data.size());
  hidden = b->hidden;
  name = b->name;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::readBlock(const std::string& sessionHandle, std::uint32_t handle, std::uint32_t offset,
                                           std::uint32_t count, std::vector<std::uint8_t>& data) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (permissionOf(*app, *b) < 1) return kNotPermitted;
  if (auto rv = checkLock(*app, handle)) return rv;
  if (offset >= b->data.size()) return kInvalidByteOffset;
  if (count == 0 || count > L::kMtu || std::uint64_t{offset} + count > b->data.size()) return kInvalidByteCount;
  data.assign(b->data.begin() + offset, b->data.begin() + offset + count);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::writeBlock(const std::string& sessionHandle, std::uint32_t handle, std::uint32_t offset,
                                            const std::vector<std::uint8_t>& data, std::uint32_t& bytesWritten) {
  bytesWritten = 0;
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (permissionOf(*app, *b) < 2) return kNotPermitted;
  if (auto rv = checkLock(*app, handle)) return rv;
  if (offset >= b->data.size()) return kInvalidByteOffset;
  if (data.empty() || data.size() > L::kMtu || std::uint64_t{offset} + data.size() > b->data.size())
    return kInvalidByteCount;
  if (state_.writesRemaining == 0) return kFlashWriteLimitExceeded;
  --state_.writesRemaining;
  std::copy(data.begin(), data.end(), b->data.begin() + offset);
  bytesWritten = static_cast<std::uint32_t>(data.size());
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::lockBlock(const std::string& sessionHandle, std::uint32_t handle) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (permissionOf(*app, *b) < 1) return kNotPermitted;
  if (auto rv = checkLock(*app, handle)) return rv;
  if (!findIf(sessions_.locks, [&](const TpdsLock& l) { return l.block == handle; }))
    sessions_.locks.push_back({handle, app->handle, now_});
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::unlockBlock(const std::string& sessionHandle, std::uint32_t handle) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (permissionOf(*app, *b) < 1) return kNotPermitted;
  TpdsLock* lock = findIf(sessions_.locks, [&](const TpdsLock& l) { return l.block == handle; });
  if (!lock) return kBlockNotLocked;
  if (lock->application != app->handle) return kBlockLockedByOther;
  std::erase_if(sessions_.locks, [&](const TpdsLock& l) { return l.block == handle; });
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::setBlockName(const std::string& sessionHandle, std::uint32_t handle,
                                              const std::string& name) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedBlock(*app, handle, b)) return rv;
  if (!validName(name, L::kMaxBlockNameLength, true)) return kInvalidName;
  b->name = name;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::setBlockVisibility(const std::string& sessionHandle, std::uint32_t handle, bool hidden) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedBlock(*app, handle, b)) return rv;
  b->hidden = hidden;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::addPermissionsGroup(const std::string& sessionHandle, std::uint32_t handle,
                                                     std::uint32_t permissions, const std::string& name,
                                                     std::uint32_t& groupHandle) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedBlock(*app, handle, b)) return rv;
  if (permissions != 1 && permissions != 2) return kInvalidGroupPermissions;
  if (!validName(name, L::kMaxBlockNameLength, true)) return kInvalidName;
  if (b->groups.size() >= L::kMaxGroupsPerBlock) return kMaxLimitReached;
  groupHandle = newHandle();
  b->groups.push_back({groupHandle, name, permissions, {}});
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::removePermissionsGroup(const std::string& sessionHandle, std::uint32_t handle,
                                                        std::uint32_t group) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  TpdsGroup* g = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedGroup(*app, handle, group, b, g)) return rv;
  std::erase_if(b->groups, [&](const TpdsGroup& x) { return x.handle == group; });
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getPermissionsGroups(const std::string& sessionHandle, std::uint32_t handle,
                                                      std::vector<std::uint32_t>& groups) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (b->hidden && b->owner != app->handle) return kBlockDoesNotExist;  // a hidden block's groups: owner only
  groups.clear();
  for (const auto& g : b->groups) groups.push_back(g.handle);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getPermissionsGroupAttributes(const std::string& sessionHandle, std::uint32_t handle,
                                                               std::uint32_t group, std::string& name,
                                                               std::uint32_t& permissions) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (b->hidden && b->owner != app->handle) return kBlockDoesNotExist;
  const TpdsGroup* g = findIf(b->groups, [&](const TpdsGroup& x) { return x.handle == group; });
  if (!g) return kGroupDoesNotExist;
  name = g->name;
  permissions = g->permissions;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::setPermissionsGroupName(const std::string& sessionHandle, std::uint32_t handle,
                                                         std::uint32_t group, const std::string& name) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  TpdsGroup* g = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedGroup(*app, handle, group, b, g)) return rv;
  if (!validName(name, L::kMaxBlockNameLength, true)) return kInvalidName;
  g->name = name;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::setPermissionsGroupPermissions(const std::string& sessionHandle, std::uint32_t handle,
                                                                std::uint32_t group, std::uint32_t permissions) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  TpdsGroup* g = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedGroup(*app, handle, group, b, g)) return rv;
  if (permissions != 1 && permissions != 2) return kInvalidGroupPermissions;
  g->permissions = permissions;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::addPermissionsGroupMembers(const std::string& sessionHandle, std::uint32_t handle,
                                                            std::uint32_t group, const std::vector<std::uint32_t>& members) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  TpdsGroup* g = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedGroup(*app, handle, group, b, g)) return rv;
  if (members.empty()) return kInvalidMemberCount;
  std::vector<std::uint32_t> next = g->members;
  for (auto m : members) {
    if (!application(m)) return kApplicationDoesNotExist;
    if (std::find(next.begin(), next.end(), m) == next.end()) next.push_back(m);
  }
  if (next.size() > L::kMaxMembersPerGroup) return kInvalidMemberCount;
  g->members = std::move(next);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::removePermissionsGroupMembers(const std::string& sessionHandle, std::uint32_t handle,
                                                               std::uint32_t group,
                                                               const std::vector<std::uint32_t>& members) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  TpdsGroup* g = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = ownedGroup(*app, handle, group, b, g)) return rv;
  if (members.empty()) return kInvalidMemberCount;
  for (auto m : members)
    if (std::find(g->members.begin(), g->members.end(), m) == g->members.end()) return kApplicationDoesNotExist;
  for (auto m : members) std::erase(g->members, m);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::getPermissionsGroupMembers(const std::string& sessionHandle, std::uint32_t handle,
                                                            std::uint32_t group, std::vector<std::uint32_t>& members) {
  TpdsApplication* app = nullptr;
  TpdsBlock* b = nullptr;
  if (auto rv = caller(sessionHandle, app)) return rv;
  if (auto rv = visibleBlock(*app, handle, b)) return rv;
  if (b->hidden && b->owner != app->handle) return kBlockDoesNotExist;
  const TpdsGroup* g = findIf(b->groups, [&](const TpdsGroup& x) { return x.handle == group; });
  if (!g) return kGroupDoesNotExist;
  members = g->members;
  return kSuccess;
}

// --- the administration service ---

TpdsGlobalAttributes ThirdPartyStorage::globalAttributes() const {
  TpdsGlobalAttributes a;
  a.totalStorage = L::kTotalStorage;
  a.totalPartnerAllocatedStorage = partnerAllocated();
  a.totalAllocatedStorage = a.totalPartnerAllocatedStorage + nonPartnerAllocated();
  a.maxPartnerStorage = state_.maxPartnerStorage;
  a.maxNonPartnerStorage = L::kTotalStorage - state_.maxPartnerStorage;
  a.maxFpaclEntries = L::kMaxFpaclEntries;
  a.maxAslEntries = L::kMaxAslEntries;
  a.maxEaclEntries = L::kMaxEaclEntries;
  a.maxGroupsPerBlock = L::kMaxGroupsPerBlock;
  a.maxMembersPerGroup = L::kMaxMembersPerGroup;
  a.maxNonPartnerTotalAllocationSize = state_.maxNonPartnerTotalAllocationSize;
  return a;
}

std::uint32_t ThirdPartyStorage::setGlobalAttributes(std::optional<std::uint32_t> maxPartnerStorage,
                                                     std::optional<std::uint32_t> maxNonPartnerTotalAllocationSize) {
  if (!maxPartnerStorage && !maxNonPartnerTotalAllocationSize) return kInvalidParameter;
  if (maxPartnerStorage) {
    if (*maxPartnerStorage % k4KB || *maxPartnerStorage > L::kTotalStorage || *maxPartnerStorage < partnerAllocated() ||
        L::kTotalStorage - *maxPartnerStorage < nonPartnerAllocated())
      return kInvalidParameter;
  }
  if (maxNonPartnerTotalAllocationSize && (*maxNonPartnerTotalAllocationSize % k4KB ||
                                           *maxNonPartnerTotalAllocationSize > L::kTotalStorage))
    return kInvalidParameter;
  if (maxPartnerStorage) state_.maxPartnerStorage = *maxPartnerStorage;
  if (maxNonPartnerTotalAllocationSize) state_.maxNonPartnerTotalAllocationSize = *maxNonPartnerTotalAllocationSize;
  return kSuccess;
}

std::vector<std::uint32_t> ThirdPartyStorage::registeredApplications() const {
  return handlesOf(state_.applications);
}

std::uint32_t ThirdPartyStorage::adminApplicationAttributes(std::uint32_t handle, TpdsApplicationAttributes& out) const {
  const TpdsApplication* app = findIf(state_.applications, [&](const TpdsApplication& a) { return a.handle == handle; });
  if (!app) return kApplicationDoesNotExist;
  out.application = *app;
  out.currentAllocationSize = allocatedBy(handle);
  out.activeSession = std::any_of(sessions_.sessions.begin(), sessions_.sessions.end(),
                                  [&](const TpdsSession& s) { return s.application == handle; });
  const TpdsAllocEntry* entry = allocEntryOf(*app);
  out.partner = entry && entry->partner;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::adminRemoveApplication(std::uint32_t handle) {
  if (!application(handle)) return kApplicationDoesNotExist;
  removeApplicationData(handle);
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::addEaclEntry(const std::string& enterpriseName, std::uint32_t& handle) {
  if (!validName(enterpriseName, L::kMaxNameLength, false)) return kInvalidName;
  if (std::any_of(state_.enterprises.begin(), state_.enterprises.end(),
                  [&](const TpdsEnterprise& e) { return e.name == enterpriseName; }))
    return kDuplicate;
  if (state_.enterprises.size() >= L::kMaxEaclEntries) return kMaxLimitReached;
  handle = newHandle();
  state_.enterprises.push_back({handle, enterpriseName});
  return kSuccess;
}

std::vector<std::uint32_t> ThirdPartyStorage::eaclEntries() const {
  return handlesOf(state_.enterprises);
}

std::uint32_t ThirdPartyStorage::getEaclEntry(std::uint32_t handle, std::string& enterpriseName) const {
  const TpdsEnterprise* e = findIf(state_.enterprises, [&](const TpdsEnterprise& x) { return x.handle == handle; });
  if (!e) return kInvalidHandle;
  enterpriseName = e->name;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::removeEaclEntry(std::uint32_t handle) {
  const TpdsEnterprise* e = findIf(state_.enterprises, [&](const TpdsEnterprise& x) { return x.handle == handle; });
  if (!e) return kInvalidHandle;
  if (std::any_of(state_.applications.begin(), state_.applications.end(),
                  [&](const TpdsApplication& a) { return a.enterpriseName == e->name; }))
    return kNotPermitted;  // its applications must be removed first
  std::erase_if(state_.enterprises, [&](const TpdsEnterprise& x) { return x.handle == handle; });
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::addFpaclEntry(std::uint32_t attrType, const std::string& applicationName,
                                               const std::string& vendorName, bool isPartner,
                                               std::uint32_t totalAllocationSize, std::uint32_t& handle) {
  if (attrType != 1 || !isPartner || totalAllocationSize % k4KB || totalAllocationSize > L::kTotalStorage)
    return kInvalidParameter;
  if (!validName(applicationName, L::kMaxNameLength, false) || !validName(vendorName, L::kMaxNameLength, false))
    return kInvalidName;
  if (std::any_of(state_.allocEntries.begin(), state_.allocEntries.end(), [&](const TpdsAllocEntry& e) {
        return e.vendorName == vendorName && e.applicationName == applicationName;
      }))
    return kDuplicate;  // a registered non-partner of that name holds its NACL entry
  const auto partners = std::count_if(state_.allocEntries.begin(), state_.allocEntries.end(),
                                      [](const TpdsAllocEntry& e) { return e.partner; });
  if (partners >= L::kMaxFpaclEntries) return kMaxLimitReached;
  handle = newHandle();
  state_.allocEntries.push_back({handle, vendorName, applicationName, true, totalAllocationSize});
  return kSuccess;
}

std::vector<std::uint32_t> ThirdPartyStorage::allocEntries() const {
  return handlesOf(state_.allocEntries);
}

std::uint32_t ThirdPartyStorage::getAllocEntry(std::uint32_t handle, TpdsAllocEntry& out) const {
  const TpdsAllocEntry* e = findIf(state_.allocEntries, [&](const TpdsAllocEntry& x) { return x.handle == handle; });
  if (!e) return kInvalidHandle;
  out = *e;
  if (!out.partner) out.totalAllocationSize = state_.maxNonPartnerTotalAllocationSize;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::updateFpaclEntry(std::uint32_t handle, std::uint32_t newAllocationSize) {
  TpdsAllocEntry* e = findIf(state_.allocEntries, [&](const TpdsAllocEntry& x) { return x.handle == handle; });
  if (!e) return kInvalidHandle;
  if (!e->partner) return kNotPermitted;  // NACL entries follow SetGlobalStorageAttributes
  if (newAllocationSize % k4KB || newAllocationSize > L::kTotalStorage) return kInvalidParameter;
  for (const auto& a : state_.applications)
    if (a.vendorName == e->vendorName && a.applicationName == e->applicationName && allocatedBy(a.handle) > newAllocationSize)
      return kNotPermitted;  // decreasing below what an application holds
  e->totalAllocationSize = newAllocationSize;
  return kSuccess;
}

std::uint32_t ThirdPartyStorage::removeFpaclEntry(std::uint32_t handle) {
  const TpdsAllocEntry* e = findIf(state_.allocEntries, [&](const TpdsAllocEntry& x) { return x.handle == handle; });
  if (!e) return kInvalidHandle;
  if (!e->partner) return kNotPermitted;
  if (std::any_of(state_.applications.begin(), state_.applications.end(), [&](const TpdsApplication& a) {
        return a.vendorName == e->vendorName && a.applicationName == e->applicationName;
      }))
    return kNotPermitted;  // its applications must be removed first
  std::erase_if(state_.allocEntries, [&](const TpdsAllocEntry& x) { return x.handle == handle; });
  return kSuccess;
}

}  // namespace mesim::platform
