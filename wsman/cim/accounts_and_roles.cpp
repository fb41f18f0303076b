// Role Based Authorization and Simple Identity Management (DSP1039, DSP1034) over AMT's one user table: the admin
// account and the ACL entries of AMT_AuthorizationService (PlatformState::admin / aclUsers). Nothing here keeps a copy
// of the users: every instance is derived from that table on each request, so an AddUserAclEntryEx shows up as a
// CIM_Account at once, and CIM_Account.RequestStateChange changes the same `enabled` flag SetAclEnabledState does.
// A role is an AMT realm; an identity is in a role when its ACL entry holds that realm (the admin holds them all).
#include <string>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/realms.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;

constexpr const char* kAdminAccountName = "Intel(r) AMT Admin Account";
constexpr const char* kAccountService = "Intel(r) AMT Account Management Service";
constexpr const char* kRoleService = "Intel(r) AMT Role Based Authorization Service";
constexpr const char* kPrivilegeService = "Intel(r) AMT Privilege Management Service";

// CIM's RequestStateChange return values (CIM_EnabledLogicalElement), which CIM_Account keeps.
constexpr std::uint32_t kRscCompleted = 0;
constexpr std::uint32_t kRscNotSupported = 1;
constexpr std::uint32_t kRscFailed = 4;
constexpr std::uint32_t kRscInvalidParameter = 5;

// One user of AMT's table: the admin (handle 0, which no ACL entry has) or an ACL entry.
struct UserView {
  std::uint32_t handle = 0;
  std::string user;
  bool enabled = true;
  std::vector<Realm> realms;
};

std::vector<UserView> users(const CimContext& ctx) {
  std::vector<UserView> out;
  UserView admin{0, ctx.platform.admin().user, true, {}};
  // The admin holds every realm, less Audit Log while an auditor (another ACL entry) owns it (realms.h).
  const RealmSet adminRealms = callerRealms(ctx.platform, admin.user, false);
  for (Realm r : kAllRealms)
    if (adminRealms.has(r)) admin.realms.push_back(r);
  out.push_back(std::move(admin));
  for (const auto& u : ctx.platform.state().aclUsers) {
    UserView v{u.handle, u.user, u.enabled, {}};
    for (std::uint32_t n : u.realms)
      for (Realm r : kAllRealms)
        if (static_cast<std::uint32_t>(r) == n) v.realms.push_back(r);
    out.push_back(std::move(v));
  }
  return out;
}

// Keys follow the handle, which stays the same when UpdateUserAclEntryEx renames the user.
std::string accountName(std::uint32_t handle) {
  return handle == 0 ? kAdminAccountName : "Intel(r) AMT ACL Entry " + std::to_string(handle);
}
std::string identityId(std::uint32_t handle) { return "Intel(r) AMT Identity: " + accountName(handle); }
std::string privilegeId(Realm r) { return "Intel(r) AMT Privilege: " + std::string(realmName(r)); }

EndpointReference accountRef(std::uint32_t handle) { return serviceRef(Schema::Cim, "CIM_Account", accountName(handle)); }
EndpointReference identityRef(std::uint32_t handle) {
  return instanceIdRef(Schema::Cim, "CIM_Identity", identityId(handle));
}
EndpointReference roleRef(Realm r) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_Role");
  e.selectors = {soap::textSelector("CreationClassName", "CIM_Role"), soap::textSelector("Name", std::string(realmName(r)))};
  return e;
}
EndpointReference privilegeRef(Realm r) { return instanceIdRef(Schema::Cim, "CIM_Privilege", privilegeId(r)); }

// The handle a CIM_Account instance stands for (nullopt: not one of ours).
std::optional<std::uint32_t> handleOf(const CimContext& ctx, const Instance& account) {
  for (const auto& u : users(ctx))
    if (accountName(u.handle) == account.str("Name")) return u.handle;
  return std::nullopt;
}

Instance pair(const char* leftName, EndpointReference left, const char* rightName, EndpointReference right) {
  Instance i;
  i.setRef(leftName, std::move(left)).setRef(rightName, std::move(right));
  return i;
}

ClassDef association(std::string name, const char* left, const char* right,
                     std::function<std::vector<Instance>(CimContext&)> enumerate) {
  ClassDef c{.name = std::move(name), .schema = Schema::Cim, .keys = {left, right}};
  c.properties = {P(left, T::Reference), P(right, T::Reference)};
  c.enumerate = std::move(enumerate);
  return c;
}

Instance service(const char* className, const char* name) {
  Instance i;
  setServiceKeys(i, className, name).set("ElementName", name).setNum("EnabledState", 5).setNum("RequestedState", 12);
  return i;
}

std::vector<PropertyDef> serviceProperties() {
  return {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
          P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
}

void registerAccounts(ClassRegistry& r) {
  ClassDef account{.name = "CIM_Account", .schema = Schema::Cim, .keys = kServiceKeys};
  account.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                        P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName"), P("UserID")};
  account.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& u : users(ctx)) {
      Instance i;
      setServiceKeys(i, "CIM_Account", accountName(u.handle))
          .set("ElementName", u.user)
          .setNum("EnabledState", u.enabled ? 2 : 3)
          .setNum("RequestedState", 12)
          .set("UserID", u.user);
      out.push_back(std::move(i));
    }
    return out;
  };
  // 2 enables, 3 disables the ACL entry (AMT_AuthorizationService.SetAclEnabledState); the admin cannot be disabled.
  account.methods = {
      {"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {Out("Job", T::Reference)},
       [](CimContext& ctx, const Instance& target, const Arguments& in) {
         std::uint64_t requested = 0;
         if (!argUint(in, "RequestedState", requested) || (requested != 2 && requested != 3))
           return MethodResult::status(kRscInvalidParameter);
         const auto handle = handleOf(ctx, target);
         if (!handle) return MethodResult::status(kRscInvalidParameter);
         if (*handle == 0) return MethodResult::status(requested == 2 ? kRscCompleted : kRscNotSupported);
         auto result = ctx.platform.update([&](platform::PlatformState& s) {
           for (auto& u : s.aclUsers)
             if (u.handle == *handle) u.enabled = requested == 2;
         });
         return MethodResult::status(result == platform::ChangeResult::Ok ? kRscCompleted : kRscFailed);
       }}};
  r.add(std::move(account));

  ClassDef identity{.name = "CIM_Identity", .schema = Schema::Cim, .keys = {"InstanceID"}};
  identity.properties = {P("CurrentlyAuthenticated", T::Boolean), P("ElementName"), P("InstanceID")};
  identity.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& u : users(ctx)) {
      Instance i;
      // An identity is "authenticated" for the caller's own account only: AMT keeps no sessions for Digest users.
      i.setBool("CurrentlyAuthenticated", u.user == ctx.user).set("ElementName", u.user).set("InstanceID", identityId(u.handle));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(identity));

  r.add(association("CIM_AssignedIdentity", "IdentityInfo", "ManagedElement", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& u : users(ctx)) out.push_back(pair("IdentityInfo", identityRef(u.handle), "ManagedElement", accountRef(u.handle)));
    return out;
  }));
  r.add(association("CIM_AccountOnSystem", "GroupComponent", "PartComponent", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& u : users(ctx))
      out.push_back(pair("GroupComponent", computerSystemRef(kAmtSystemName), "PartComponent", accountRef(u.handle)));
    return out;
  }));

  // Kerberos users (KerberosUserSid) are not kept by this AMT (ACL entries are Digest users): no remote identities.
  ClassDef remote{.name = "CIM_RemoteIdentity", .schema = Schema::Cim, .keys = {"InstanceID"}};
  remote.properties = {P("ElementName"), P("InstanceID")};
  remote.enumerate = [](CimContext&) { return std::vector<Instance>{}; };
  r.add(std::move(remote));

  ClassDef accounts{.name = "CIM_AccountManagementService", .schema = Schema::Cim, .keys = kServiceKeys};
  accounts.properties = serviceProperties();
  accounts.enumerate = [](CimContext&) { return std::vector<Instance>{service("CIM_AccountManagementService", kAccountService)}; };
  // AMT creates users with AMT_AuthorizationService.AddUserAclEntryEx only; CreateAccount is "Not Supported" (1),
  // which its capabilities say too (OperationsSupported has no Create).
  accounts.methods = {{"CreateAccount", {In("System", T::Reference), In("AccountTemplate")},
                       {Out("Account", T::Reference), Out("Identities", T::Reference, true)},
                       [](CimContext&, const Instance&, const Arguments&) { return MethodResult::status(kRscNotSupported); }}};
  r.add(std::move(accounts));

  ClassDef accountCaps{.name = "CIM_AccountManagementCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  accountCaps.properties = {P("ElementName"), P("InstanceID"), P("MaximumNumberOfAccounts", T::UInt16),
                            A("OperationsSupported", T::UInt16)};
  accountCaps.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT Account Management Capabilities")
        .set("InstanceID", "Intel(r) AMT Account Management Capabilities")
        .setNum("MaximumNumberOfAccounts", kMaxAclUsers + 1)  // the ACL entries and the admin
        .set("OperationsSupported", Value::numbers({3}));      // 3 Modify: RequestStateChange
    return std::vector<Instance>{i};
  };
  r.add(std::move(accountCaps));
}

void registerRoles(ClassRegistry& r) {
  ClassDef role{.name = "CIM_Role", .schema = Schema::Cim, .keys = {"CreationClassName", "Name"}};
  role.properties = {P("CommonName"), P("CreationClassName"), P("ElementName"), P("Name"), P("RoleCharacteristics", T::UInt16)};
  role.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (Realm realm : kAllRealms) {
      Instance i;
      i.set("CommonName", std::string(realmName(realm)))
          .set("CreationClassName", "CIM_Role")
          .set("ElementName", std::string(realmName(realm)))
          .set("Name", std::string(realmName(realm)))
          .setNum("RoleCharacteristics", 2);  // 2 Static: realms are fixed by the firmware
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(role));

  ClassDef privilege{.name = "CIM_Privilege", .schema = Schema::Cim, .keys = {"InstanceID"}};
  privilege.properties = {A("Activities", T::UInt16), A("ActivityQualifiers"), P("ElementName"), P("InstanceID"),
                          P("PrivilegeGranted", T::Boolean), A("QualifierFormats", T::UInt16),
                          P("RepresentsAuthorizationRights", T::Boolean)};
  privilege.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (Realm realm : kAllRealms) {
      Instance i;
      i.set("Activities", Value::numbers({5, 6, 7}))  // Read, Write, Execute on the realm's classes and methods
          .set("ActivityQualifiers", Value::list({std::string(realmName(realm))}))
          .set("ElementName", std::string(realmName(realm)))
          .set("InstanceID", privilegeId(realm))
          .setBool("PrivilegeGranted", true)
          .set("QualifierFormats", Value::numbers({2}))  // 2 Class Name: the realm stands for a set of classes
          .setBool("RepresentsAuthorizationRights", true);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(privilege));

  // Member of a role: the identities whose ACL entry holds the realm, and the realm's privilege.
  r.add(association("CIM_MemberOfCollection", "Collection", "Member", [](CimContext& ctx) {
    std::vector<Instance> out;
    for (Realm realm : kAllRealms) out.push_back(pair("Collection", roleRef(realm), "Member", privilegeRef(realm)));
    for (const auto& u : users(ctx))
      for (Realm realm : u.realms) out.push_back(pair("Collection", roleRef(realm), "Member", identityRef(u.handle)));
    return out;
  }));
  r.add(association("CIM_OwningCollectionElement", "OwnedElement", "OwningElement", [](CimContext&) {
    std::vector<Instance> out;
    for (Realm realm : kAllRealms)
      out.push_back(pair("OwnedElement", roleRef(realm), "OwningElement", computerSystemRef(kAmtSystemName)));
    return out;
  }));
  r.add(association("CIM_RoleLimitedToTarget", "DefiningRole", "TargetElement", [](CimContext&) {
    std::vector<Instance> out;
    for (Realm realm : kAllRealms)
      out.push_back(pair("DefiningRole", roleRef(realm), "TargetElement", computerSystemRef(kAmtSystemName)));
    return out;
  }));

  ClassDef roles{.name = "CIM_RoleBasedAuthorizationService", .schema = Schema::Cim, .keys = kServiceKeys};
  roles.properties = serviceProperties();
  roles.enumerate = [](CimContext&) { return std::vector<Instance>{service("CIM_RoleBasedAuthorizationService", kRoleService)}; };
  r.add(std::move(roles));

  ClassDef privileges{.name = "CIM_PrivilegeManagementService", .schema = Schema::Cim, .keys = kServiceKeys};
  privileges.properties = serviceProperties();
  privileges.enumerate = [](CimContext&) {
    return std::vector<Instance>{service("CIM_PrivilegeManagementService", kPrivilegeService)};
  };
  r.add(std::move(privileges));

  ClassDef roleCaps{.name = "CIM_RoleBasedManagementCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  roleCaps.properties = {P("ElementName"), P("InstanceID"), P("SharedPrivilegeSupported", T::Boolean),
                         A("SupportedMethods", T::UInt16)};
  roleCaps.enumerate = [](CimContext&) {
    Instance i;
    // Roles are the fixed realms; they are granted through AMT_AuthorizationService, not by CIM methods.
    i.set("ElementName", "Intel(r) AMT Role Based Management Capabilities")
        .set("InstanceID", "Intel(r) AMT Role Based Management Capabilities")
        .setBool("SharedPrivilegeSupported", false);
    return std::vector<Instance>{i};
  };
  r.add(std::move(roleCaps));

  ClassDef privilegeCaps{.name = "CIM_PrivilegeManagementCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  privilegeCaps.properties = {A("ActivitiesSupported", T::UInt16), P("ElementName"), P("InstanceID"),
                              P("SharedPrivilegeSupported", T::Boolean)};
  privilegeCaps.enumerate = [](CimContext&) {
    Instance i;
    i.set("ActivitiesSupported", Value::numbers({5, 6, 7}))
        .set("ElementName", "Intel(r) AMT Privilege Management Capabilities")
        .set("InstanceID", "Intel(r) AMT Privilege Management Capabilities")
        .setBool("SharedPrivilegeSupported", false);
    return std::vector<Instance>{i};
  };
  r.add(std::move(privilegeCaps));
}

}  // namespace

void registerAccountsAndRoles(ClassRegistry& r) {
  registerAccounts(r);
  registerRoles(r);
}

}  // namespace mesim::wsman::cim
