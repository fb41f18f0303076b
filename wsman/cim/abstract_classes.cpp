// The classes of AMT's object model that are only ever seen through their subclasses (spec/amt-classes.md): an
// Enumerate of one of them answers the instances of every registered class below it (cim_hierarchy.h), as a
// console's full-state save expects, and a Get of one names no instance of its own. Registered last and only where
// no concrete definition exists: a family that serves instances of its own (CIM_PhysicalPackage's disks,
// CIM_ListenerDestination's subscribers) keeps its definition.
#include <array>
#include <string_view>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

constexpr std::array<std::string_view, 82> kAbstractClasses = {
    "AMT_ComplexFilterEntryBase", "AMT_EventSubscriber", "AMT_FilterEntryBase", "AMT_InterfacePolicy",
    "CIM_AbstractIndicationSubscription", "CIM_AlertIndication", "CIM_AuthenticationService",
    "CIM_AuthorizationService", "CIM_BootSettingData", "CIM_Capabilities", "CIM_Chip", "CIM_Collection",
    "CIM_Component", "CIM_Controller", "CIM_CoolingDevice", "CIM_Credential", "CIM_CredentialContext",
    "CIM_CredentialManagementService", "CIM_Dependency", "CIM_ElementLocation", "CIM_EnabledLogicalElement",
    "CIM_EnabledLogicalElementCapabilities", "CIM_HostedDependency", "CIM_IEEE8021xSettings", "CIM_Identity",
    "CIM_Indication", "CIM_LANEndpoint", "CIM_ListenerDestination", "CIM_Log", "CIM_LogEntry", "CIM_LogicalDevice",
    "CIM_LogicalElement", "CIM_LogicalPort", "CIM_LogicalPortCapabilities", "CIM_ManagedElement",
    "CIM_ManagedSystemElement", "CIM_MessageLog", "CIM_NetworkPort", "CIM_NetworkPortCapabilities",
    "CIM_NetworkPortConfigurationService", "CIM_PCIController", "CIM_PhysicalComponent", "CIM_PhysicalElement",
    "CIM_PhysicalFrame", "CIM_PhysicalPackage", "CIM_Policy", "CIM_PolicyAction", "CIM_PolicyCondition",
    "CIM_PolicyInSystem", "CIM_PolicyRule", "CIM_PolicySet", "CIM_PolicySetAppliesToElement",
    "CIM_PolicySetInSystem", "CIM_PowerManagementCapabilities", "CIM_Privilege",
    "CIM_PrivilegeManagementCapabilities", "CIM_PrivilegeManagementService", "CIM_ProcessIndication",
    "CIM_ProtocolEndpoint", "CIM_ProvidesServiceToElement", "CIM_RecordForLog", "CIM_RecordLog", "CIM_RemotePort",
    "CIM_RemoteServiceAccessPoint", "CIM_SecurityService", "CIM_Service", "CIM_ServiceAccessPoint",
    "CIM_ServiceAvailableToElement", "CIM_ServiceSAPDependency", "CIM_SettingData", "CIM_SharedCredential",
    "CIM_SoftwareElement", "CIM_SoftwareFeature", "CIM_StatisticalData", "CIM_SoftwareFeatureSoftwareElements", "CIM_StorageExtent",
    "CIM_System", "CIM_SystemComponent", "CIM_SystemPackaging", "CIM_Watchdog", "IPS_ProvisioningAuditRecord",
    "IPS_SessionUsingPort"};

Schema schemaOf(std::string_view name) {
  if (name.starts_with("AMT_")) return Schema::Amt;
  if (name.starts_with("IPS_")) return Schema::Ips;
  return Schema::Cim;
}

}  // namespace

void registerAbstractClasses(ClassRegistry& r) {
  for (std::string_view name : kAbstractClasses)
    if (!r.byName(name)) r.add(ClassDef{.name = std::string(name), .schema = schemaOf(name)});
}

}  // namespace mesim::wsman::cim
