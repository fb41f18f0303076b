// Values, class definitions and the registry (cim_value.h, class_def.h, class_registry.h, cim_util.h).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_hierarchy.h"
#include "common/text_codecs.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {

// --- values ---

Value Value::numbers(const std::vector<std::uint32_t>& v) {
  Value out;
  for (auto n : v) out.items.push_back(std::to_string(n));
  return out;
}

const std::string& Value::first() const {
  static const std::string empty;
  return items.empty() ? empty : items.front();
}

const Value* Instance::get(std::string_view name) const {
  auto it = props.find(std::string(name));
  return it == props.end() ? nullptr : &it->second;
}

std::string Instance::str(std::string_view name) const {
  const Value* v = get(name);
  return v ? v->first() : std::string{};
}

bool argString(const Arguments& args, std::string_view name, std::string& out) {
  auto it = args.find(std::string(name));
  if (it == args.end() || it->second.items.empty()) return false;
  out = it->second.items.front();
  return true;
}

bool argUint(const Arguments& args, std::string_view name, std::uint64_t& out) {
  std::string text;
  if (!argString(args, name, text) || text.empty()) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size();
}

bool argBool(const Arguments& args, std::string_view name, bool& out) {
  std::string text;
  if (!argString(args, name, text)) return false;
  if (text == "true" || text == "1") return out = true, true;
  if (text == "false" || text == "0") return out = false, true;
  return false;
}

const EndpointReference* argRef(const Arguments& args, std::string_view name) {
  auto it = args.find(std::string(name));
  return it == args.end() || it->second.refs.empty() ? nullptr : &it->second.refs.front();
}

bool validLiteral(PropType type, std::string_view text) {
  auto unsignedMax = [&](std::uint64_t max) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return !text.empty() && ec == std::errc{} && p == text.data() + text.size() && v <= max;
  };
  switch (type) {
    case PropType::String:
    case PropType::DateTime: return true;
    case PropType::Boolean: return text == "true" || text == "false" || text == "1" || text == "0";
    case PropType::UInt8: return unsignedMax(0xFF);
    case PropType::UInt16: return unsignedMax(0xFFFF);
    case PropType::UInt32: return unsignedMax(0xFFFFFFFFu);
    case PropType::UInt64: return unsignedMax(~std::uint64_t{0});
    case PropType::SInt32: {
      std::int32_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      return !text.empty() && ec == std::errc{} && p == text.data() + text.size();
    }
    case PropType::Base64: {
      std::vector<std::uint8_t> bytes;
      return base64Decode(text, bytes);
    }
    case PropType::Reference: return false;
  }
  return false;
}

// --- class definitions ---

std::string resourceUri(Schema schema, std::string_view className) {
  std::string_view prefix = schema == Schema::Amt ? soap::kAmtSchema
                            : schema == Schema::Ips ? soap::kIpsSchema
                                                    : soap::kCimSchema;
  return std::string(prefix) + std::string(className);
}

std::string ClassDef::resourceUri() const { return cim::resourceUri(schema, name); }

const PropertyDef* ClassDef::property(std::string_view n) const {
  for (const auto& p : properties)
    if (p.name == n) return &p;
  return nullptr;
}

const MethodDef* ClassDef::method(std::string_view n) const {
  for (const auto& m : methods)
    if (m.name == n) return &m;
  return nullptr;
}

EndpointReference ClassDef::eprOf(const Instance& instance) const {
  EndpointReference epr;
  epr.resourceUri = resourceUri();
  for (const auto& key : keys) {
    const Value* v = instance.get(key);
    if (!v) continue;
    if (v->isRef())
      epr.selectors.push_back(soap::eprSelector(key, v->refs.front()));
    else
      epr.selectors.push_back(soap::textSelector(key, v->first()));
  }
  return epr;
}

// --- registry ---

void ClassRegistry::add(ClassDef def) {
  auto owned = std::make_unique<ClassDef>(std::move(def));
  byUri_[owned->resourceUri()] = owned.get();
  byName_[owned->name] = owned.get();
  classes_.push_back(std::move(owned));
  families_.clear();
}

const ClassDef* ClassRegistry::byUri(std::string_view uri) const {
  auto it = byUri_.find(uri);
  return it == byUri_.end() ? nullptr : it->second;
}

const ClassDef* ClassRegistry::byName(std::string_view name) const {
  auto it = byName_.find(name);
  return it == byName_.end() ? nullptr : it->second;
}

std::string ClassRegistry::superclass(const ClassDef& cls) const {
  // The schema's table first; `base` only for a class it does not know.
  if (auto known = superclassOf(cls.name)) return std::string(*known);
  return cls.base;
}

void ClassRegistry::precomputeFamilies() {
  // Each class walks its own ancestors once and joins the family of each registered one, with its distance; the
  // same order as family() below: nearest first, registration order among equals.
  std::map<const ClassDef*, std::vector<std::pair<int, const ClassDef*>>> found;
  for (const auto& c : classes_) {
    int distance = 1;
    for (std::string up = superclass(*c); !up.empty() && distance <= 32; ++distance) {
      if (const ClassDef* registered = byName(up)) {
        found[registered].emplace_back(distance, c.get());
        up = superclass(*registered);
      } else if (auto known = superclassOf(up)) {
        up = std::string(*known);
      } else {
        break;
      }
    }
  }
  std::map<const ClassDef*, std::vector<const ClassDef*>> families;
  for (const auto& c : classes_) {
    auto& members = found[c.get()];
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<const ClassDef*> out{c.get()};
    for (const auto& [distance, member] : members) out.push_back(member);
    families[c.get()] = std::move(out);
  }
  families_ = std::move(families);
}

std::vector<const ClassDef*> ClassRegistry::family(const ClassDef& cls) const {
  if (auto it = families_.find(&cls); it != families_.end()) return it->second;
  // `cls` first, then its registered descendants nearest first (registration order among equals). An ancestor
  // need not be registered for the chain to pass through it.
  std::vector<std::pair<int, const ClassDef*>> found;
  for (const auto& c : classes_) {
    if (c.get() == &cls) continue;
    int distance = 1;
    for (std::string up = superclass(*c); !up.empty(); ++distance) {
      if (up == cls.name) {
        found.emplace_back(distance, c.get());
        break;
      }
      if (distance > 32) break;  // a cycle would be a bug in the table; stop rather than spin
      const ClassDef* registered = byName(up);
      if (registered) up = superclass(*registered);
      else if (auto known = superclassOf(up)) up = std::string(*known);
      else break;
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const ClassDef*> out{&cls};
  for (const auto& [distance, c] : found) out.push_back(c);
  return out;
}

std::vector<ServedInstance> instancesOf(const ClassRegistry& registry, const ClassDef& cls, CimContext& ctx) {
  std::vector<ServedInstance> out;
  std::vector<const ClassDef*> family = registry.family(cls);
  for (const auto& name : cls.leadingSubclasses) {
    auto it = std::find_if(family.begin(), family.end(), [&](const ClassDef* c) { return c->name == name; });
    if (it == family.end()) continue;
    if ((*it)->enumerate)
      for (auto& i : (*it)->enumerate(ctx)) out.push_back({*it, std::move(i)});
    family.erase(it);
  }
  for (const ClassDef* c : family) {
    if (!c->enumerate) continue;
    for (auto& i : c->enumerate(ctx)) out.push_back({c, std::move(i)});
  }
  return out;
}

ClassRegistry makeAmtClassRegistry() {
  ClassRegistry r;
  registerGeneralSettings(r);
  registerSetupAndConfiguration(r);
  registerHostBasedSetup(r);
  registerSoftwareIdentity(r);
  registerComputerSystem(r);
  registerPhysicalInventory(r);
  registerHardwareSensors(r);
  registerAssetTable(r);
  registerPowerManagement(r);
  registerHostBootReason(r);
  registerEthernetPortSettings(r);
  registerBootConfiguration(r);
  registerRedirection(r);
  registerOptIn(r);
  registerTimeSynchronization(r);
  registerAuthorization(r);
  registerEventLogs(r);
  registerTlsAndCertificates(r);
  registerPublicKeyManagement(r);
  registerRemoteAccess(r);
  registerIeee8021x(r);
  registerWifi(r);
  registerHttpProxy(r);
  registerEventSubscriptions(r);
  registerAgentPresence(r);
  registerProvisioningCertificateHash(r);
  registerAlarmClock(r);
  registerPet(r);
  registerSystemDefense(r);
  registerThirdPartyStorage(r);
  registerServiceSettings(r);
  registerLogRecords(r);
  registerAccountsAndRoles(r);
  registerNetworkPorts(r);
  registerGenericAssociations(r);
  registerAbstractClasses(r);  // last: only where no concrete definition exists
  r.precomputeFamilies();
  return r;
}

// --- shared vocabulary ---

Instance& setServiceKeys(Instance& i, const std::string& className, const std::string& name) {
  i.set("CreationClassName", className);
  i.set("Name", name);
  i.set("SystemCreationClassName", "CIM_ComputerSystem");
  i.set("SystemName", kAmtSystemName);
  return i;
}

EndpointReference serviceRef(Schema schema, const std::string& className, const std::string& name) {
  EndpointReference e;
  e.resourceUri = resourceUri(schema, className);
  e.selectors = {soap::textSelector("CreationClassName", className), soap::textSelector("Name", name),
                 soap::textSelector("SystemCreationClassName", "CIM_ComputerSystem"),
                 soap::textSelector("SystemName", kAmtSystemName)};
  return e;
}

EndpointReference computerSystemRef(const std::string& name) {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Cim, "CIM_ComputerSystem");
  e.selectors = {soap::textSelector("CreationClassName", "CIM_ComputerSystem"), soap::textSelector("Name", name)};
  return e;
}

EndpointReference instanceIdRef(Schema schema, const std::string& className, const std::string& instanceId) {
  EndpointReference e;
  e.resourceUri = resourceUri(schema, className);
  e.selectors = {soap::textSelector("InstanceID", instanceId)};
  return e;
}

std::string cimDatetime(std::int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string base64Encode(const std::vector<std::uint8_t>& data) { return text::base64Encode(data); }

bool base64Decode(std::string_view text, std::vector<std::uint8_t>& out) {
  auto bytes = text::base64Decode(text);
  if (!bytes) return false;
  out = std::move(*bytes);
  return true;
}

ChangeFault changeFault(platform::ChangeResult result) {
  switch (result) {
    case platform::ChangeResult::Ok: return std::nullopt;
    case platform::ChangeResult::InvalidParameter:
    case platform::ChangeResult::InvalidState: return soap::Fault{soap::FaultCode::InvalidParameter, {}, {}};
    case platform::ChangeResult::StorageError: return soap::Fault{soap::FaultCode::InternalError, {}, {}};
  }
  return soap::Fault{soap::FaultCode::InternalError, {}, {}};
}

}  // namespace mesim::wsman::cim
