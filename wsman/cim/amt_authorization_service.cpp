// AMT_AuthorizationService: the admin ACL entry (the platform's admin account). No other users exist yet.
#include "firmware/platform/credentials.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

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
      {"EnumerateUserAclEntries", {In("StartIndex", T::UInt32)}, {Out("TotalCount", T::UInt32), Out("HandlesCount", T::UInt32)},
       [ok](CimContext&, const Instance&, const Arguments&) {
         return ok({{"HandlesCount", Value::number(0)}, {"TotalCount", Value::number(0)}});
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
           s.admin.ha1 = platform::toHex(ha1.data(), ha1.size());
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
