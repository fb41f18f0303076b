// Which realms may do what: the one table of class and method to realm (realm_table.cpp), after the AMT SDK's
// realm descriptions and each class's "Used in features" (Security Administration = PT Administration).
// WsmanService checks it before any operation runs; a caller holding none of a row's realms gets
// wsman:AccessDenied.
#pragma once

#include <span>
#include <string_view>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/realms.h"

namespace mesim::wsman::ops {

enum class Operation {
  Read,  // Get, Enumerate, and the Pull and Release of an enumeration of the class
  Put,
  Create,
  Delete,
  Subscribe,
  Unsubscribe,
  Renew,
  Invoke,  // a class-specific method (RealmRule::method)
};
std::string_view operationName(Operation op);

struct RealmRule {
  std::string_view className;
  Operation operation;
  std::string_view method;  // Invoke only
  cim::RealmSet realms;     // holding any one of them permits the operation
};

// What an operation the table does not list needs: PT Administration, i.e. only the admin and administrators.
// Unlisted means not reviewed, so it fails closed; wsman_realms_test makes every served class and method listed.
inline constexpr cim::RealmSet kUnlistedRealms{cim::Realm::PtAdministration};

std::span<const RealmRule> realmRules();
// The row for (class, operation, method), or null when the table has none.
const RealmRule* findRealmRule(std::string_view className, Operation op, std::string_view method = {});
// The row's realms, or kUnlistedRealms.
cim::RealmSet requiredRealms(std::string_view className, Operation op, std::string_view method = {});

// What reading `cls` needs: its row; for an abstract class (no instances of its own), any realm that reads one of
// the classes below it. An Enumerate or Get through a base class answers only the instances of the classes the
// caller may read (WsmanService), so a base class's row need not equal its subclasses'.
cim::RealmSet readRealms(const cim::ClassRegistry& registry, const cim::ClassDef& cls);

}  // namespace mesim::wsman::ops
