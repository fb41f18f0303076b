// AMT_AuthorizationService: the admin ACL entry and the digest users besides it (PlatformState::aclUsers),
// which the HTTP layer authenticates. Only HA1 hashes are stored; AMT allows a bounded number of entries.
#include <algorithm>
#include <charconv>

#include "firmware/platform/credentials.h"
#include "common/text_codecs.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/realms.h"

namespace mesim::wsman::cim {

namespace {

constexpr std::size_t kHandlesPerPage = 50;  // EnumerateUserAclEntries returns at most this many per call

const platform::AclUser* findUser(CimContext& ctx, std::uint64_t handle) {
  for (auto& u : ctx.platform.state().aclUsers)
    if (u.handle == handle) return &u;
  return nullptr;
}

// The common inputs of Add/UpdateUserAclEntryEx; `self` is the handle being updated (0 when adding).
std::uint32_t readAclEntry(CimContext& ctx, const Arguments& in, platform::AclUser& user, std::uint32_t self) {
  std::string name, digest;
  std::vector<std::uint8_t> ha1;
  std::uint64_t access = static_cast<std::uint64_t>(platform::AclAccess::LocalAndNetwork);
  if (!argString(in, "DigestUsername", name) || name.empty() || name.size() > 32) return status::kInvalidParameter;
  if (name.starts_with("$$")) return status::kInvalidParameter;  // AMT's own local accounts ($$OsAdmin) are named so
  if (!argString(in, "DigestPassword", digest) || !base64Decode(digest, ha1) || ha1.size() != 16)
    return status::kInvalidPassword;
  if (in.count("AccessPermission") && (!argUint(in, "AccessPermission", access) || access > 2))
    return status::kInvalidParameter;
  if (name == ctx.platform.admin().user) return status::kDuplicate;
  for (auto& u : ctx.platform.state().aclUsers)
    if (u.user == name && u.handle != self) return status::kDuplicate;
  user.user = name;
  user.ha1 = text::toHex(ha1);
  user.access = static_cast<platform::AclAccess>(access);
  user.realms.clear();
  if (auto it = in.find("Realms"); it != in.end()) {
    for (auto& item : it->second.items) {
      std::uint32_t realm = 0;
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), realm);
      if (ec != std::errc() || end != item.data() + item.size() || !assignableRealm(realm)) return status::kInvalidRealm;
      user.realms.push_back(realm);
    }
  }
  return status::kSuccess;
}

}  // namespace

void registerAuthorization(ClassRegistry& r) {
  using T = PropType;
  constexpr const char* kName = "Intel(r) AMT Authorization Service";
  ClassDef c{.name = "AMT_AuthorizationService", .schema = Schema::Amt, .keys = kServiceKeys};
  c.properties = {P("AllowHttpQopAuthOnly", T::UInt32), P("CreationClassName"), P("ElementName"),
                  P("EnabledState", T::UInt16), P("Name"), P("RequestedState", T::UInt16), P("SystemCreationClassName"),
                  P("SystemName")};
  auto ok = [](Arguments out) {
    MethodResult r;
    r.outputs = std::move(out);
    return r;
  };
  c.methods = {
      {"GetAdminAclEntry", {}, {Out("Username")},
       [ok](CimContext& ctx, const Instance&, const Arguments&) { return ok({{"Username", Value::text(ctx.platform.admin().user)}}); }},
      {"GetAdminAclEntryStatus", {}, {Out("IsDefault", T::Boolean)},
       [ok](CimContext&, const Instance&, const Arguments&) { return ok({{"IsDefault", Value::boolean(false)}}); }},
      {"GetAdminNetAclEntryStatus", {}, {Out("IsDefault", T::Boolean)},
       [ok](CimContext&, const Instance&, const Arguments&) { return ok({{"IsDefault", Value::boolean(false)}}); }},
      {"EnumerateUserAclEntries", {In("StartIndex", T::UInt32)},
       {Out("TotalCount", T::UInt32), Out("HandlesCount", T::UInt32), Out("Handles", T::UInt32, true)},
       [ok](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t start = 1;
         argUint(in, "StartIndex", start);
         const auto& users = ctx.platform.state().aclUsers;
         if (start == 0 || start > users.size() + 1) return MethodResult::status(status::kInvalidParameter);
         std::vector<std::uint32_t> handles;
         for (std::size_t i = start - 1; i < users.size() && handles.size() < kHandlesPerPage; ++i)
           handles.push_back(users[i].handle);
         Arguments out{{"HandlesCount", Value::number(handles.size())}, {"TotalCount", Value::number(users.size())}};
         if (!handles.empty()) out["Handles"] = Value::numbers(handles);
         return ok(std::move(out));
       }},
      {"AddUserAclEntryEx",
       {In("DigestUsername"), In("DigestPassword", T::Base64), In("KerberosUserSid"), In("AccessPermission", T::UInt32),
        In("Realms", T::UInt32, true)},
       {Out("Handle", T::UInt32)},
       [ok](CimContext& ctx, const Instance&, const Arguments& in) {
         platform::AclUser user;
         if (auto rv = readAclEntry(ctx, in, user, 0); rv != status::kSuccess) return MethodResult::status(rv);
         const auto& users = ctx.platform.state().aclUsers;
         if (users.size() >= kMaxAclUsers) return MethodResult::status(status::kMaxLimitReached);
         std::uint32_t handle = 1;
         for (auto& u : users) handle = std::max(handle, u.handle + 1);
         user.handle = handle;
         auto result = ctx.platform.update([&](platform::PlatformState& s) { s.aclUsers.push_back(user); });
         if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
         return ok({{"Handle", Value::number(handle)}});
       }},
      {"UpdateUserAclEntryEx",
       {In("Handle", T::UInt32), In("DigestUsername"), In("DigestPassword", T::Base64), In("KerberosUserSid"),
        In("AccessPermission", T::UInt32), In("Realms", T::UInt32, true)},
       {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t handle = 0;
         if (!argUint(in, "Handle", handle) || !findUser(ctx, handle)) return MethodResult::status(status::kInvalidHandle);
         platform::AclUser user;
         if (auto rv = readAclEntry(ctx, in, user, static_cast<std::uint32_t>(handle)); rv != status::kSuccess)
           return MethodResult::status(rv);
         auto result = ctx.platform.update([&](platform::PlatformState& s) {
           for (auto& u : s.aclUsers)
             if (u.handle == handle) {
               user.handle = u.handle;
               user.enabled = u.enabled;
               u = user;
             }
         });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
      {"GetUserAclEntryEx", {In("Handle", T::UInt32)},
       {Out("DigestUsername"), Out("KerberosUserSid"), Out("AccessPermission", T::UInt32), Out("Realms", T::UInt32, true)},
       [ok](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t handle = 0;
         const platform::AclUser* user = argUint(in, "Handle", handle) ? findUser(ctx, handle) : nullptr;
         if (!user) return MethodResult::status(status::kInvalidHandle);
         return ok({{"AccessPermission", Value::number(static_cast<std::uint32_t>(user->access))},
                    {"DigestUsername", Value::text(user->user)},
                    {"Realms", Value::numbers(user->realms)}});
       }},
      {"RemoveUserAclEntry", {In("Handle", T::UInt32)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t handle = 0;
         if (!argUint(in, "Handle", handle) || !findUser(ctx, handle)) return MethodResult::status(status::kInvalidHandle);
         auto result = ctx.platform.update(
             [&](platform::PlatformState& s) { std::erase_if(s.aclUsers, [&](auto& u) { return u.handle == handle; }); });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
      {"GetAclEnabledState", {In("Handle", T::UInt32)}, {Out("Enabled", T::Boolean)},
       [ok](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t handle = 0;
         const platform::AclUser* user = argUint(in, "Handle", handle) ? findUser(ctx, handle) : nullptr;
         if (!user) return MethodResult::status(status::kInvalidHandle);
         return ok({{"Enabled", Value::boolean(user->enabled)}});
       }},
      {"SetAclEnabledState", {In("Handle", T::UInt32), In("Enabled", T::Boolean)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::uint64_t handle = 0;
         bool enabled = true;
         if (!argUint(in, "Handle", handle) || !findUser(ctx, handle)) return MethodResult::status(status::kInvalidHandle);
         if (!argBool(in, "Enabled", enabled)) return MethodResult::status(status::kInvalidParameter);
         auto result = ctx.platform.update([&](platform::PlatformState& s) {
           for (auto& u : s.aclUsers)
             if (u.handle == handle) u.enabled = enabled;
         });
         return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
       }},
      // DigestPassword: base64 of MD5(user:realm:password) (spec/wsman.md §2.1).
      {"SetAdminAclEntryEx", {In("Username"), In("DigestPassword", T::Base64)}, {},
       [](CimContext& ctx, const Instance&, const Arguments& in) {
         std::string user, digest;
         std::vector<std::uint8_t> ha1;
         if (!argString(in, "Username", user) || user.empty() || user.size() > 32 || !argString(in, "DigestPassword", digest) ||
             !base64Decode(digest, ha1) || ha1.size() != 16)
           return MethodResult::status(status::kInvalidParameter);
         auto result = ctx.platform.update([&](platform::PlatformState& s) {
           s.admin.user = user;
           s.admin.ha1 = text::toHex(ha1);
         });
         return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
       }}};
  c.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_AuthorizationService", kName)
        .setNum("AllowHttpQopAuthOnly", 1)
        .set("ElementName", kName)
        .setNum("EnabledState", 5)
        .setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
