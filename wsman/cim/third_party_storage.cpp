// AMT_ThirdPartyDataStorageService and AMT_ThirdPartyDataStorageAdministrationService, the 3PDS of AMT 3-11 that
// AMT 16's class list still holds (docs/3pds.md). Each method runs platform::ThirdPartyStorage on a copy of the
// persisted state and of the session table (CimRuntime: sessions and locks live in the ME's RAM); a changed state is
// stored through PlatformModel::update, and the session table is kept only when that went through.
#include <optional>

#include "firmware/platform/event_records.h"
#include "firmware/platform/third_party_storage.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
using platform::ThirdPartyStorage;
constexpr const char* kServiceClass = "AMT_ThirdPartyDataStorageService";
constexpr const char* kServiceName = "Intel(r) AMT Third Party Data Storage Service";
constexpr const char* kAdminClass = "AMT_ThirdPartyDataStorageAdministrationService";
constexpr const char* kAdminName = "Intel(r) AMT Third Party Data Storage Administration Service";

// Runs `op` on a ThirdPartyStorage over copies; commits them when the call left the state changed. A successful
// change of `auditEvent` (Storage Administration) is written to the audit log with it.
template <class Op>
MethodResult run(CimContext& ctx, Op op, std::optional<std::uint16_t> auditEvent = std::nullopt) {
  auto state = ctx.platform.state().thirdPartyStorage;
  auto sessions = ctx.runtime.thirdPartyStorageSessions;
  ThirdPartyStorage storage(state, sessions, ctx.now());
  MethodResult result = op(storage);
  if (state != ctx.platform.state().thirdPartyStorage) {
    const auto changed = ctx.platform.update([&](platform::PlatformState& s) {
      s.thirdPartyStorage = state;
      if (!auditEvent || result.returnValue != platform::tpds_status::kSuccess) return;
      std::vector<std::uint8_t> extended;
      if (*auditEvent == platform::audit::kGlobalStorageAttributesSet)
        for (std::uint32_t v : {state.maxPartnerStorage, state.maxNonPartnerTotalAllocationSize})
          for (int shift = 24; shift >= 0; shift -= 8) extended.push_back(static_cast<std::uint8_t>(v >> shift));
      platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kStorageAdministration, *auditEvent,
                                                               ctx.initiator(), ctx.now(), extended));
    });
    if (changed != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  }
  ctx.runtime.thirdPartyStorageSessions = std::move(sessions);
  return result;
}

bool u32(const Arguments& in, std::string_view name, std::uint32_t& out) {
  std::uint64_t n = 0;
  if (!argUint(in, name, n) || n > 0xFFFFFFFFu) return false;
  out = static_cast<std::uint32_t>(n);
  return true;
}

std::optional<std::vector<std::uint32_t>> u32List(const Arguments& in, std::string_view name) {
  auto it = in.find(std::string(name));
  if (it == in.end()) return std::nullopt;
  std::vector<std::uint32_t> out;
  for (const auto& item : it->second.items) {
    Arguments one{{"v", Value::text(item)}};
    std::uint32_t n = 0;
    if (!u32(one, "v", n)) return std::nullopt;
    out.push_back(n);
  }
  return out;
}

std::string session(const Arguments& in) {
  std::string s;
  argString(in, "SessionHandle", s);
  return s;
}

MethodResult invalid() { return MethodResult::status(platform::tpds_status::kInvalidParameter); }

MethodResult withStatus(std::uint32_t rv, Arguments outputs = {}) {
  MethodResult r = MethodResult::status(rv);
  if (rv == 0) r.outputs = std::move(outputs);
  return r;
}

// --- the storage service ---

MethodResult registerApplication(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string uuid, vendor, app, enterprise;
  if (!argString(in, "CallerUUID", uuid) || !argString(in, "VendorName", vendor) ||
      !argString(in, "ApplicationName", app) || !argString(in, "EnterpriseName", enterprise))
    return MethodResult::status(platform::tpds_status::kInvalidRegistrationData);
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::string handle;
    const auto rv = s.registerApplication(uuid, vendor, app, enterprise, ctx.local, handle);
    return withStatus(rv, {{"SessionHandle", Value::text(handle)}});
  });
}

// A method of one SessionHandle and no other input.
template <std::uint32_t (ThirdPartyStorage::*Method)(const std::string&)>
MethodResult sessionOnly(CimContext& ctx, const Instance&, const Arguments& in) {
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus((s.*Method)(session(in))); });
}

MethodResult getCurrentApplicationHandle(CimContext& ctx, const Instance&, const Arguments& in) {
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t handle = 0;
    const auto rv = s.getCurrentApplicationHandle(session(in), handle);
    return withStatus(rv, {{"ApplicationHandle", Value::number(handle)}});
  });
}

MethodResult getRegisteredApplications(CimContext& ctx, const Instance&, const Arguments& in) {
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::vector<std::uint32_t> handles;
    const auto rv = s.getRegisteredApplications(session(in), handles);
    return withStatus(rv, {{"AppHandles", Value::numbers(handles)}});
  });
}

MethodResult getApplicationAttributes(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t requested = 0;
  if (!u32(in, "ApplicationBeingRequested", requested)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::string vendor, app;
    const auto rv = s.getApplicationAttributes(session(in), requested, vendor, app);
    return withStatus(rv, {{"VendorName", Value::text(vendor)}, {"ApplicationName", Value::text(app)}});
  });
}

MethodResult getBytesAvailable(CimContext& ctx, const Instance&, const Arguments& in) {
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t bytes = 0;
    const auto rv = s.getBytesAvailable(session(in), bytes);
    return withStatus(rv, {{"BytesAvailable", Value::number(bytes)}});
  });
}

MethodResult allocateBlock(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t bytes = 0;
  bool hidden = false;
  std::string name;
  if (!u32(in, "BytesRequested", bytes) || !argBool(in, "BlockHidden", hidden)) return invalid();
  if (in.count("BlockName") && !argString(in, "BlockName", name)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t handle = 0;
    const auto rv = s.allocateBlock(session(in), bytes, hidden, name, handle);
    return withStatus(rv, {{"BlockHandle", Value::number(handle)}});
  });
}

// A method of SessionHandle and BlockHandle only.
template <std::uint32_t (ThirdPartyStorage::*Method)(const std::string&, std::uint32_t)>
MethodResult blockOnly(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0;
  if (!u32(in, "BlockHandle", block)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus((s.*Method)(session(in), block)); });
}

MethodResult getAllocatedBlocks(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t owner = 0;
  if (!u32(in, "BlockOwnerApplication", owner)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::vector<std::uint32_t> blocks;
    const auto rv = s.getAllocatedBlocks(session(in), owner, blocks);
    return withStatus(rv, {{"BlockHandles", Value::numbers(blocks)}});
  });
}

MethodResult getBlockAttributes(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0;
  if (!u32(in, "BlockHandle", block)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t size = 0;
    bool hidden = false;
    std::string name;
    const auto rv = s.getBlockAttributes(session(in), block, size, hidden, name);
    return withStatus(rv, {{"BlockSize", Value::number(size)}, {"BlockHidden", Value::boolean(hidden)},
                           {"BlockName", Value::text(name)}});
  });
}

MethodResult readBlock(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, offset = 0, count = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "ByteOffset", offset) || !u32(in, "ByteCount", count)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::vector<std::uint8_t> data;
    const auto rv = s.readBlock(session(in), block, offset, count, data);
    return withStatus(rv, {{"Data", Value::text(base64Encode(data))}});
  });
}

MethodResult writeBlock(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, offset = 0;
  std::string text;
  std::vector<std::uint8_t> data;
  if (!u32(in, "BlockHandle", block) || !u32(in, "ByteOffset", offset) || !argString(in, "Data", text) ||
      !base64Decode(text, data))
    return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t written = 0;
    const auto rv = s.writeBlock(session(in), block, offset, data, written);
    MethodResult r = MethodResult::status(rv);
    r.outputs["BytesWritten"] = Value::number(written);  // "valid on any return status"
    return r;
  }, platform::audit::kStorageWriteOperation);
}

MethodResult setBlockName(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0;
  std::string name;
  if (!u32(in, "BlockHandle", block) || !argString(in, "BlockName", name)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.setBlockName(session(in), block, name)); });
}

MethodResult setBlockVisibility(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0;
  bool hidden = false;
  if (!u32(in, "BlockHandle", block) || !argBool(in, "BlockHidden", hidden)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.setBlockVisibility(session(in), block, hidden)); });
}

MethodResult addPermissionsGroup(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, permissions = 0;
  std::string name;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupPermissions", permissions)) return invalid();
  if (in.count("GroupName") && !argString(in, "GroupName", name)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t group = 0;
    const auto rv = s.addPermissionsGroup(session(in), block, permissions, name, group);
    return withStatus(rv, {{"GroupHandle", Value::number(group)}});
  });
}

MethodResult removePermissionsGroup(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.removePermissionsGroup(session(in), block, group)); });
}

MethodResult getPermissionsGroups(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0;
  if (!u32(in, "BlockHandle", block)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::vector<std::uint32_t> groups;
    const auto rv = s.getPermissionsGroups(session(in), block, groups);
    return withStatus(rv, {{"GroupHandles", Value::numbers(groups)}});
  });
}

MethodResult getPermissionsGroupAttributes(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::string name;
    std::uint32_t permissions = 0;
    const auto rv = s.getPermissionsGroupAttributes(session(in), block, group, name, permissions);
    return withStatus(rv, {{"Name", Value::text(name)}, {"Permissions", Value::number(permissions)}});
  });
}

MethodResult setPermissionsGroupName(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0;
  std::string name;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group) || !argString(in, "GroupName", name))
    return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.setPermissionsGroupName(session(in), block, group, name)); });
}

MethodResult setPermissionsGroupPermissions(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0, permissions = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group) || !u32(in, "Permissions", permissions))
    return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    return withStatus(s.setPermissionsGroupPermissions(session(in), block, group, permissions));
  });
}

// AddPermissionsGroupMembers / RemovePermissionsGroupMembers.
template <std::uint32_t (ThirdPartyStorage::*Method)(const std::string&, std::uint32_t, std::uint32_t,
                                                      const std::vector<std::uint32_t>&)>
MethodResult changeMembers(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group)) return invalid();
  auto members = u32List(in, "MemberHandles");
  if (!members) return MethodResult::status(platform::tpds_status::kInvalidMemberCount);
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus((s.*Method)(session(in), block, group, *members)); });
}

MethodResult getPermissionsGroupMembers(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t block = 0, group = 0;
  if (!u32(in, "BlockHandle", block) || !u32(in, "GroupHandle", group)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::vector<std::uint32_t> members;
    const auto rv = s.getPermissionsGroupMembers(session(in), block, group, members);
    return withStatus(rv, {{"MemberHandles", Value::numbers(members)}});
  });
}

// --- the administration service ---

MethodResult getGlobalStorageAttributes(CimContext& ctx, const Instance&, const Arguments&) {
  return run(ctx, [&](ThirdPartyStorage& s) {
    const auto a = s.globalAttributes();
    return withStatus(0, {{"TotalStorage", Value::number(a.totalStorage)},
                          {"TotalAllocatedStorage", Value::number(a.totalAllocatedStorage)},
                          {"MaxPartnerStorage", Value::number(a.maxPartnerStorage)},
                          {"TotalPartnerAllocatedStorage", Value::number(a.totalPartnerAllocatedStorage)},
                          {"MaxNonPartnerStorage", Value::number(a.maxNonPartnerStorage)},
                          {"MaxFpaclEntries", Value::number(a.maxFpaclEntries)},
                          {"MaxAslEntries", Value::number(a.maxAslEntries)},
                          {"MaxEaclEntries", Value::number(a.maxEaclEntries)},
                          {"MaxGroupsPerBlock", Value::number(a.maxGroupsPerBlock)},
                          {"MaxMembersPerGroup", Value::number(a.maxMembersPerGroup)},
                          {"MaxNonPartnerTotalAllocationSize", Value::number(a.maxNonPartnerTotalAllocationSize)}});
  });
}

MethodResult setGlobalStorageAttributes(CimContext& ctx, const Instance&, const Arguments& in) {
  std::optional<std::uint32_t> partner, nonPartner;
  std::uint32_t n = 0;
  if (in.count("MaxPartnerStorage")) {
    if (!u32(in, "MaxPartnerStorage", n)) return invalid();
    partner = n;
  }
  if (in.count("MaxNonPartnerTotalAllocationSize")) {
    if (!u32(in, "MaxNonPartnerTotalAllocationSize", n)) return invalid();
    nonPartner = n;
  }
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.setGlobalAttributes(partner, nonPartner)); },
             platform::audit::kGlobalStorageAttributesSet);
}

MethodResult adminGetRegisteredApplications(CimContext& ctx, const Instance&, const Arguments&) {
  return run(ctx, [&](ThirdPartyStorage& s) {
    return withStatus(0, {{"ApplicationHandles", Value::numbers(s.registeredApplications())}});
  });
}

MethodResult adminGetApplicationAttributes(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t handle = 0;
  if (!u32(in, "Handle", handle)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    platform::TpdsApplicationAttributes a;
    const auto rv = s.adminApplicationAttributes(handle, a);
    return withStatus(rv, {{"AttrType", Value::number(1)},
                           {"UUID", Value::text(base64Encode(a.application.uuid))},
                           {"VendorName", Value::text(a.application.vendorName)},
                           {"ApplicationName", Value::text(a.application.applicationName)},
                           {"EnterpriseName", Value::text(a.application.enterpriseName)},
                           {"CurrentAllocationSize", Value::number(a.currentAllocationSize)},
                           {"ActiveSession", Value::boolean(a.activeSession)},
                           {"Partner", Value::boolean(a.partner)}});
  });
}

// A method of one Handle (AdminRemoveApplication, RemoveStorageEaclEntry, RemoveStorageFpaclEntry).
// `Audit`: the Storage Administration event of a success, or none (-1).
template <std::uint32_t (ThirdPartyStorage::*Method)(std::uint32_t), int Audit = -1>
MethodResult handleOnly(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t handle = 0;
  if (!u32(in, "Handle", handle)) return invalid();
  std::optional<std::uint16_t> audit;
  if (Audit >= 0) audit = static_cast<std::uint16_t>(Audit);
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus((s.*Method)(handle)); }, audit);
}

MethodResult addStorageEaclEntry(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string name;
  if (!argString(in, "EnterpriseName", name)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t handle = 0;
    const auto rv = s.addEaclEntry(name, handle);
    return withStatus(rv, {{"Handle", Value::number(handle)}});
  }, platform::audit::kStorageEaclModified);
}

MethodResult enumerateStorageEaclEntries(CimContext& ctx, const Instance&, const Arguments&) {
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(0, {{"Handles", Value::numbers(s.eaclEntries())}}); });
}

MethodResult getStorageEaclEntry(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t handle = 0;
  if (!u32(in, "Handle", handle)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::string name;
    const auto rv = s.getEaclEntry(handle, name);
    return withStatus(rv, {{"EnterpriseName", Value::text(name)}});
  });
}

MethodResult addStorageFpaclEntry(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t attrType = 0, size = 0;
  std::string app, vendor;
  bool partner = false;
  if (!u32(in, "AttrType", attrType) || !argString(in, "ApplicationName", app) || !argString(in, "VendorName", vendor) ||
      !argBool(in, "IsPartner", partner) || !u32(in, "TotalAllocationSize", size))
    return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    std::uint32_t handle = 0;
    const auto rv = s.addFpaclEntry(attrType, app, vendor, partner, size, handle);
    return withStatus(rv, {{"Handle", Value::number(handle)}});
  }, platform::audit::kStorageFpaclModified);
}

MethodResult enumerateStorageAllocEntries(CimContext& ctx, const Instance&, const Arguments&) {
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(0, {{"Handles", Value::numbers(s.allocEntries())}}); });
}

MethodResult getStorageAllocEntry(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t handle = 0;
  if (!u32(in, "Handle", handle)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) {
    platform::TpdsAllocEntry e;
    const auto rv = s.getAllocEntry(handle, e);
    return withStatus(rv, {{"AttrType", Value::number(1)},
                           {"ApplicationName", Value::text(e.applicationName)},
                           {"VendorName", Value::text(e.vendorName)},
                           {"IsPartner", Value::boolean(e.partner)},
                           {"TotalAllocationSize", Value::number(e.totalAllocationSize)}});
  });
}

MethodResult updateStorageFpaclEntry(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint32_t handle = 0, size = 0;
  if (!u32(in, "Handle", handle) || !u32(in, "NewAllocationSize", size)) return invalid();
  return run(ctx, [&](ThirdPartyStorage& s) { return withStatus(s.updateFpaclEntry(handle, size)); },
             platform::audit::kStorageFpaclModified);
}

Instance serviceInstance(const char* className, const char* name) {
  Instance i;
  setServiceKeys(i, className, name).set("ElementName", name).setNum("EnabledState", 5).setNum("RequestedState", 12);
  return i;
}

const std::vector<PropertyDef> kServiceProperties = {P("CreationClassName"), P("ElementName"),
                                                     P("EnabledState", T::UInt16), P("Name"),
                                                     P("RequestedState", T::UInt16), P("SystemCreationClassName"),
                                                     P("SystemName")};

}  // namespace

void registerThirdPartyStorage(ClassRegistry& r) {
  const auto U = T::UInt32;
  const auto H = [](std::string name) { return In(std::move(name)); };  // a HexBinary/string input
  ClassDef svc{.name = kServiceClass, .schema = Schema::Amt, .keys = kServiceKeys};
  svc.properties = kServiceProperties;
  svc.methods = {
      {"GetMTU", {}, {Out("Mtu", U)}, [](CimContext&, const Instance&, const Arguments&) {
         return withStatus(0, {{"Mtu", Value::number(platform::TpdsLimits::kMtu)}});
       }},
      {"GetTimeoutValues", {}, {Out("RegistrationTimeout", U), Out("LockTimeout", U)},
       [](CimContext&, const Instance&, const Arguments&) {
         return withStatus(0, {{"RegistrationTimeout", Value::number(platform::TpdsLimits::kRegistrationTimeoutSeconds)},
                               {"LockTimeout", Value::number(platform::TpdsLimits::kLockTimeoutSeconds)}});
       }},
      {"GetWriteEraseLimit", {}, {Out("WriteEraseLimit", U)}, [](CimContext& ctx, const Instance&, const Arguments&) {
         return withStatus(0, {{"WriteEraseLimit", Value::number(ctx.platform.state().thirdPartyStorage.writesRemaining)}});
       }},
      {"RegisterApplication", {H("CallerUUID"), In("VendorName"), In("ApplicationName"), In("EnterpriseName")},
       {Out("SessionHandle")}, registerApplication},
      {"UnregisterApplication", {H("SessionHandle")}, {}, sessionOnly<&ThirdPartyStorage::unregisterApplication>},
      {"RemoveApplication", {H("SessionHandle")}, {}, sessionOnly<&ThirdPartyStorage::removeApplication>},
      {"GetCurrentApplicationHandle", {H("SessionHandle")}, {Out("ApplicationHandle", U)}, getCurrentApplicationHandle},
      {"GetRegisteredApplications", {H("SessionHandle")}, {Out("AppHandles", U, true)}, getRegisteredApplications},
      {"GetApplicationAttributes", {H("SessionHandle"), In("ApplicationBeingRequested", U)},
       {Out("VendorName"), Out("ApplicationName")}, getApplicationAttributes},
      {"GetBytesAvailable", {H("SessionHandle")}, {Out("BytesAvailable", U)}, getBytesAvailable},
      {"AllocateBlock", {H("SessionHandle"), In("BytesRequested", U), In("BlockHidden", T::Boolean), In("BlockName")},
       {Out("BlockHandle", U)}, allocateBlock},
      {"DeallocateBlock", {H("SessionHandle"), In("BlockHandle", U)}, {}, blockOnly<&ThirdPartyStorage::deallocateBlock>},
      {"GetAllocatedBlocks", {H("SessionHandle"), In("BlockOwnerApplication", U)}, {Out("BlockHandles", U, true)},
       getAllocatedBlocks},
      {"GetBlockAttributes", {H("SessionHandle"), In("BlockHandle", U)},
       {Out("BlockSize", U), Out("BlockHidden", T::Boolean), Out("BlockName")}, getBlockAttributes},
      {"ReadBlock", {H("SessionHandle"), In("BlockHandle", U), In("ByteOffset", U), In("ByteCount", U)},
       {Out("Data", T::Base64)}, readBlock},
      {"WriteBlock", {H("SessionHandle"), In("BlockHandle", U), In("ByteOffset", U), In("Data", T::Base64)},
       {Out("BytesWritten", U)}, writeBlock},
      {"LockBlock", {H("SessionHandle"), In("BlockHandle", U)}, {}, blockOnly<&ThirdPartyStorage::lockBlock>},
      {"UnlockBlock", {H("SessionHandle"), In("BlockHandle", U)}, {}, blockOnly<&ThirdPartyStorage::unlockBlock>},
      {"SetBlockName", {H("SessionHandle"), In("BlockHandle", U), In("BlockName")}, {}, setBlockName},
      {"SetBlockVisibility", {H("SessionHandle"), In("BlockHandle", U), In("BlockHidden", T::Boolean)}, {},
       setBlockVisibility},
      {"AddPermissionsGroup",
       {H("SessionHandle"), In("BlockHandle", U), In("GroupPermissions", U), In("GroupName")},
       {Out("GroupHandle", U)}, addPermissionsGroup},
      {"RemovePermissionsGroup", {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U)}, {},
       removePermissionsGroup},
      {"GetPermissionsGroups", {H("SessionHandle"), In("BlockHandle", U)}, {Out("GroupHandles", U, true)},
       getPermissionsGroups},
      {"GetPermissionsGroupAttributes", {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U)},
       {Out("Name"), Out("Permissions", U)}, getPermissionsGroupAttributes},
      {"SetPermissionsGroupName", {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U), In("GroupName")}, {},
       setPermissionsGroupName},
      {"SetPermissionsGroupPermissions",
       {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U), In("Permissions", U)}, {},
       setPermissionsGroupPermissions},
      {"AddPermissionsGroupMembers",
       {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U), In("MemberHandles", U, true)}, {},
       changeMembers<&ThirdPartyStorage::addPermissionsGroupMembers>},
      {"RemovePermissionsGroupMembers",
       {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U), In("MemberHandles", U, true)}, {},
       changeMembers<&ThirdPartyStorage::removePermissionsGroupMembers>},
      {"GetPermissionsGroupMembers", {H("SessionHandle"), In("BlockHandle", U), In("GroupHandle", U)},
       {Out("MemberHandles", U, true)}, getPermissionsGroupMembers},
  };
  svc.enumerate = [](CimContext&) { return std::vector<Instance>{serviceInstance(kServiceClass, kServiceName)}; };
  r.add(std::move(svc));

  ClassDef admin{.name = kAdminClass, .schema = Schema::Amt, .keys = kServiceKeys};
  admin.properties = kServiceProperties;
  admin.methods = {
      {"GetGlobalStorageAttributes", {},
       {Out("TotalStorage", U), Out("TotalAllocatedStorage", U), Out("MaxPartnerStorage", U),
        Out("TotalPartnerAllocatedStorage", U), Out("MaxNonPartnerStorage", U), Out("MaxFpaclEntries", T::UInt16),
        Out("MaxAslEntries", T::UInt16), Out("MaxEaclEntries", T::UInt16), Out("MaxGroupsPerBlock", T::UInt16),
        Out("MaxMembersPerGroup", T::UInt16), Out("MaxNonPartnerTotalAllocationSize", U)},
       getGlobalStorageAttributes},
      {"SetGlobalStorageAttributes", {In("MaxPartnerStorage", U), In("MaxNonPartnerTotalAllocationSize", U)}, {},
       setGlobalStorageAttributes},
      {"AdminGetRegisteredApplications", {}, {Out("ApplicationHandles", U, true)}, adminGetRegisteredApplications},
      {"AdminGetApplicationAttributes", {In("Handle", U)},
       {Out("AttrType", U), Out("UUID", T::Base64), Out("VendorName"), Out("ApplicationName"), Out("EnterpriseName"),
        Out("CurrentAllocationSize", U), Out("ActiveSession", T::Boolean), Out("Partner", T::Boolean)},
       adminGetApplicationAttributes},
      {"AdminRemoveApplication", {In("Handle", U)}, {}, handleOnly<&ThirdPartyStorage::adminRemoveApplication>},
      {"AddStorageEaclEntry", {In("EnterpriseName")}, {Out("Handle", U)}, addStorageEaclEntry},
      {"EnumerateStorageEaclEntries", {}, {Out("Handles", U, true)}, enumerateStorageEaclEntries},
      {"GetStorageEaclEntry", {In("Handle", U)}, {Out("EnterpriseName")}, getStorageEaclEntry},
      {"RemoveStorageEaclEntry", {In("Handle", U)}, {}, handleOnly<&ThirdPartyStorage::removeEaclEntry, platform::audit::kStorageEaclModified>},
      {"AddStorageFpaclEntry",
       {In("AttrType", U), In("ApplicationName"), In("VendorName"), In("IsPartner", T::Boolean),
        In("TotalAllocationSize", U)},
       {Out("Handle", U)}, addStorageFpaclEntry},
      {"EnumerateStorageAllocEntries", {}, {Out("Handles", U, true)}, enumerateStorageAllocEntries},
      {"GetStorageAllocEntry", {In("Handle", U)},
       {Out("AttrType", U), Out("ApplicationName"), Out("VendorName"), Out("IsPartner", T::Boolean),
        Out("TotalAllocationSize", U)},
       getStorageAllocEntry},
      {"UpdateStorageFpaclEntry", {In("Handle", U), In("NewAllocationSize", U)}, {}, updateStorageFpaclEntry},
      {"RemoveStorageFpaclEntry", {In("Handle", U)}, {}, handleOnly<&ThirdPartyStorage::removeFpaclEntry, platform::audit::kStorageFpaclModified>},
  };
  admin.enumerate = [](CimContext&) { return std::vector<Instance>{serviceInstance(kAdminClass, kAdminName)}; };
  r.add(std::move(admin));
}

}  // namespace mesim::wsman::cim
