// The declarative class model (STYLE.md: one CIM class per file, declared once, served by generic
// operations). A ClassDef names the class, its schema, its base (for polymorphic Enumerate), its keys,
// typed properties and methods, and the provider callbacks that read and change the platform model.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "firmware/core/firmware_clock.h"
#include "firmware/events/event_delivery.h"
#include "firmware/platform/agent_presence.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/system_defense_monitor.h"
#include "firmware/platform/user_consent.h"
#include "wsman/cim/cim_value.h"
#include "wsman/soap/fault.h"

namespace mesim::platform {
class HardwareModel;
class ProvisioningTimeout;
}

namespace mesim::wsman::cim {

enum class Schema { Amt, Cim, Ips };

struct PropertyDef {
  std::string name;
  PropType type = PropType::String;
  bool array = false;
  bool writable = false;  // accepted by Put (read-only properties in a Put body are ignored, as AMT does)
};

struct ParamDef {
  std::string name;
  PropType type = PropType::String;
  bool array = false;
};

// Transient firmware state owned by the WS-Man service (not persisted): what a real ME keeps in RAM.
struct CimRuntime {
  std::uint32_t nextIterationId = 1;
  std::map<std::uint32_t, std::size_t> messageLogIterators;  // IterationIdentifier -> next record index
  std::vector<std::vector<std::uint8_t>> certChain;          // AddNextCertInChain so far, leaf first
  bool certChainComplete = false;                            // the root has been added
  std::string configurationNonce;                            // IPS_HostBasedSetupService (base64)

  // After a setup, an unprovision or a factory reset: a chain or nonce of before is not to be used again.
  void forgetProvisioningSession() {
    certChain.clear();
    certChainComplete = false;
    configurationNonce.clear();
  }
};

class ClassRegistry;

// The live redirection sessions AMT_RedirectionService.TerminateSession (SOL, IDE-R) and
// IPS_KVMRedirectionSettingData.TerminateSession (KVM, on 16994/16995 or 5900) end.
enum class RedirectionSessionKind { Sol, Ider, Kvm };
// Closes the open sessions of a kind; returns how many it closed.
using SessionTerminator = std::function<std::size_t(RedirectionSessionKind)>;

// What a provider sees: the platform, time, the host's power and who is asking.
struct CimContext {
  platform::PlatformModel& platform;
  const core::FirmwareClock& clock;
  platform::HostPowerStateMachine& power;
  CimRuntime& runtime;
  std::string user;
  bool local = false;
  events::EventDelivery* events = nullptr;  // WS-Eventing subscriptions; null when the daemon delivers no events
  platform::AgentPresence* agentPresence = nullptr;  // watchdog_fw; null: the watchdog classes have no instances
  platform::UserConsent* consent = nullptr;  // IPS_OptInService and the boot gate; null: no consent machine
  platform::SystemDefenseMonitor* systemDefense = nullptr;  // firmware/sysdef; null: no filter statistics
  // Inventory, sensors, fans, power supplies; null: the inventory is generated from the platform's identity and
  // the sensor classes have no instances.
  platform::HardwareModel* hardware = nullptr;
  // Every class served: the generic associations (generic_associations.cpp) pair the instances of other classes.
  const ClassRegistry* registry = nullptr;
  // The time left to finish a configuration (AMT_SetupAndConfigurationService.ExtendProvisioningPeriod); null: none.
  platform::ProvisioningTimeout* provisioningTimeout = nullptr;
  // Ends redirection sessions (TerminateSession); null: the device runs no redirection, there is none to end.
  const SessionTerminator* terminateSessions = nullptr;

  platform::AuditInitiator initiator() const { return {user, local, {}}; }
  std::uint32_t now() const { return core::unixSeconds(clock.now()); }
};

struct MethodResult;
// The part of a method that runs back on the loop after its slow part (offLoop): it may read and change the platform.
using MethodFinish = std::function<MethodResult(CimContext&)>;

struct MethodResult {
  std::uint32_t returnValue = 0;
  Arguments outputs;                // ReturnValue is added by the generic code
  std::optional<soap::Fault> fault; // a fault instead of an _OUTPUT (invalid input the schema would reject)
  // Work too slow for the shared event loop (making an RSA key): when set, the generic code runs it on a worker
  // thread (it must not touch the platform or the context) and answers the call with what its MethodFinish
  // returns on the loop; the rest of this result is ignored.
  std::function<MethodFinish()> offLoop;
  static MethodResult status(std::uint32_t rv) { return MethodResult{rv, {}, std::nullopt, {}}; }
};

// PT_STATUS values used as ReturnValue (spec/wsman.md §3.6).
namespace status {
inline constexpr std::uint32_t kSuccess = 0;
inline constexpr std::uint32_t kInternalError = 1;
inline constexpr std::uint32_t kNotReady = 2;
inline constexpr std::uint32_t kNotPermitted = 0x10;
inline constexpr std::uint32_t kMaxLimitReached = 0x17;
inline constexpr std::uint32_t kInvalidParameter = 0x24;
inline constexpr std::uint32_t kInvalidHandle = 0x805;
inline constexpr std::uint32_t kInvalidPassword = 0x806;
inline constexpr std::uint32_t kInvalidRealm = 0x807;
inline constexpr std::uint32_t kDuplicate = 0x80A;
inline constexpr std::uint32_t kInvalidCert = 0x80F;  // 2063 INVALID_CERT
inline constexpr std::uint32_t kUnsupported = 0x812;
inline constexpr std::uint32_t kNotFound = 0x814;
}  // namespace status

// Put/Create/Delete outcome: nullopt = success, else the fault to send.
using ChangeFault = std::optional<soap::Fault>;

struct MethodDef {
  std::string name;
  std::vector<ParamDef> inputs;
  std::vector<ParamDef> outputs;  // without ReturnValue
  // `target` is the instance the request's selectors chose (singletons: the only one).
  std::function<MethodResult(CimContext&, const Instance& target, const Arguments& in)> handler;
};

struct ClassDef {
  std::string name{};
  Schema schema = Schema::Cim;
  std::string base{};               // the nearest registered base class ("" for none)
  std::vector<std::string> keys{};  // selector names that identify an instance
  std::vector<PropertyDef> properties{};
  std::vector<MethodDef> methods{};

  // Subclasses whose instances a polymorphic Enumerate lists before the class's own (AMT lists the base board
  // before the disk packages of CIM_PhysicalPackage, and MeshCommander counts on it).
  std::vector<std::string> leadingSubclasses{};

  // Provider. `enumerate` lists the class's own instances (not its subclasses'); none = abstract.
  std::function<std::vector<Instance>(CimContext&)> enumerate{};
  // Put: `current` is the chosen instance, `changes` the writable properties the client sent.
  std::function<ChangeFault(CimContext&, const Instance& current, const Arguments& changes)> put{};
  // Create: returns the new instance's key selectors in `created`.
  std::function<ChangeFault(CimContext&, const Arguments& body, std::vector<soap::Selector>& created)> create{};
  std::function<ChangeFault(CimContext&, const Instance& target)> remove{};

  std::string resourceUri() const;
  const PropertyDef* property(std::string_view name) const;
  const MethodDef* method(std::string_view name) const;
  // The reference to `instance` (its key properties as selectors).
  EndpointReference eprOf(const Instance& instance) const;
};

std::string resourceUri(Schema schema, std::string_view className);

}  // namespace mesim::wsman::cim
