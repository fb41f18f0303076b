// AMT_ProvisioningCertificateHash: the trusted root hashes remote and host-based configuration accept (AMT SDK
// class reference; LMS MEWMIProv AMT_ProvisioningCertificateHash.mof). The instances are the platform's
// `certHashes`, the same list AMTHI EnumerateHashHandles/GetCertHashEntry report, so a hash added, disabled or
// deleted here is seen there at once, and both survive a restart.
// Enabled is the one writable property; the factory defaults may be disabled but not deleted; user hashes are
// created by WS-Transfer Create (at most 3, the "custom hashes" of the SDK), SHA-256 or SHA-384 only (ME 16 no
// longer accepts SHA-1 hashes).
#include <algorithm>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kClass = "AMT_ProvisioningCertificateHash";
constexpr const char* kElementName = "Intel(r) AMT Certificate Hash";
constexpr std::size_t kMaxUserHashes = 3;
constexpr std::size_t kMaxDescription = 32;  // AMTHI's Name: "up to 32 bytes"

std::string instanceIdOf(std::uint32_t handle) { return std::string(kElementName) + " " + std::to_string(handle); }

const platform::CertHashEntry* entryOf(CimContext& ctx, const Instance& target) {
  for (const auto& e : ctx.platform.certHashes())
    if (instanceIdOf(e.handle) == target.str("InstanceID")) return &e;
  return nullptr;
}

std::vector<Instance> hashInstances(CimContext& ctx) {
  std::vector<Instance> out;
  for (const auto& e : ctx.platform.certHashes()) {
    Instance i;
    i.set("Description", e.name)
        .set("ElementName", kElementName)
        .setBool("Enabled", e.isActive)
        .set("HashData", base64Encode(e.hash))
        .setNum("HashType", static_cast<std::uint8_t>(e.algorithm))
        .set("InstanceID", instanceIdOf(e.handle))
        .setBool("IsDefault", e.isDefault);
    out.push_back(std::move(i));
  }
  return out;
}

ChangeFault putEnabled(CimContext& ctx, const Instance& current, const Arguments& changes) {
  bool enabled = false;
  if (!argBool(changes, "Enabled", enabled)) return std::nullopt;  // nothing writable was sent
  const auto* entry = entryOf(ctx, current);
  if (!entry) return invalidParameter();
  const std::uint32_t handle = entry->handle;
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
    for (auto& e : s.certHashes)
      if (e.handle == handle) e.isActive = enabled;
  }));
}

ChangeFault createHash(CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) {
  std::uint64_t type = 0;
  std::string data;
  if (!argUint(body, "HashType", type) || (type != 2 && type != 3))
    return invalidParameter("HashType must be 2 (SHA-256) or 3 (SHA-384).");
  const auto algorithm = static_cast<platform::HashAlgorithm>(type);
  std::vector<std::uint8_t> hash;
  if (!argString(body, "HashData", data) || !base64Decode(data, hash) || hash.size() != platform::hashLength(algorithm))
    return invalidParameter("HashData must be the base64 of a " + std::to_string(platform::hashLength(algorithm)) +
                            "-byte hash.");
  std::string description;
  argString(body, "Description", description);
  if (description.size() > kMaxDescription)
    return invalidParameter("Description is longer than " + std::to_string(kMaxDescription) + " characters.");
  bool enabled = true;
  argBool(body, "Enabled", enabled);

  const auto& known = ctx.platform.certHashes();
  if (std::any_of(known.begin(), known.end(), [&](const auto& e) { return e.algorithm == algorithm && e.hash == hash; }))
    return soap::Fault{soap::FaultCode::AlreadyExists, {}, "This hash is already in the list."};
  if (std::count_if(known.begin(), known.end(), [](const auto& e) { return !e.isDefault; }) >=
      static_cast<std::ptrdiff_t>(kMaxUserHashes))
    return invalidParameter("At most " + std::to_string(kMaxUserHashes) + " hashes can be added.");

  platform::CertHashEntry entry;
  entry.handle = 1;
  for (const auto& e : known) entry.handle = std::max(entry.handle, e.handle + 1);
  entry.name = std::move(description);
  entry.algorithm = algorithm;
  entry.hash = std::move(hash);
  entry.isDefault = false;
  entry.isActive = enabled;
  const std::uint32_t handle = entry.handle;
  if (auto f = changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.certHashes.push_back(entry); })))
    return f;
  created = instanceIdRef(Schema::Amt, kClass, instanceIdOf(handle)).selectors;
  return std::nullopt;
}

ChangeFault deleteHash(CimContext& ctx, const Instance& target) {
  const auto* entry = entryOf(ctx, target);
  if (!entry) return invalidParameter();
  if (entry->isDefault)
    return soap::Fault{soap::FaultCode::AccessDenied, {},
                       "A factory default hash cannot be deleted; set Enabled to false to stop trusting it."};
  const std::uint32_t handle = entry->handle;
  return changeFault(ctx.platform.update(
      [&](platform::PlatformState& s) { std::erase_if(s.certHashes, [&](const auto& e) { return e.handle == handle; }); }));
}

}  // namespace

void registerProvisioningCertificateHash(ClassRegistry& r) {
  ClassDef hash{.name = kClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  hash.properties = {P("Description"), P("ElementName"), W("Enabled", T::Boolean), P("HashData", T::Base64),
                     P("HashType", T::UInt8), P("InstanceID"), P("IsDefault", T::Boolean)};
  hash.enumerate = hashInstances;
  hash.put = putEnabled;
  hash.create = createHash;
  hash.remove = deleteHash;
  r.add(std::move(hash));
}

}  // namespace mesim::wsman::cim
