// One device's injected faults that the composer keeps (issue 11, the control API's /faults routes): the state
// disk's full switch that every writer of the state dir holds, the WS-Man fault rules WsmanService consults and the
// fw_status condition QA set. Faults that belong to a feature live there: HBM message faults in the HbmEngine,
// subscriber outages in SubscriberOutages. How many of each kind were injected: Device::faultsInjected().
#pragma once

#include <string>

#include "firmware/core/disk_full_switch.h"
#include "wsman/ops/wsman_faults.h"

namespace mesim::app {

class FaultInjection {
 public:
  core::DiskFullSwitch& disk() { return disk_; }
  wsman::ops::WsmanFaultRules& wsman() { return wsman_; }

  // The fw_status condition set through the control API ("recovery", "value", ...); empty while healthy.
  const std::string& fwStatusCondition() const { return fwStatusCondition_; }
  void setFwStatusCondition(std::string condition) { fwStatusCondition_ = std::move(condition); }

 private:
  core::DiskFullSwitch disk_;
  wsman::ops::WsmanFaultRules wsman_;
  std::string fwStatusCondition_;
};

}  // namespace mesim::app
