// The host's hardware as the ME sees it: the inventory (hardware_inventory.h) and the live state of its sensors,
// fans and power supplies. QA changes a reading or a failure (the control API, scenarios); each change that
// crosses a threshold or fails/restores a part appends an AMT_MessageLog record laid out as AMT logs a PET event
// (IPMI sensor type, event type, offset, severity, event data) and tells the listener, which raises the WS-Eventing
// alert (docs/hardware.md). The live state is not persisted: it is what the sensors read now, and a restarted
// device reads healthy hardware again (the records of what happened stay in the message log, which is).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/hardware_inventory.h"

namespace mesim::platform {

class PlatformModel;

// IPMI sensor types (IPMI 2.0 table 42-3) of the sensors AMT reports.
enum class SensorKind : std::uint8_t { Temperature = 0x01, Voltage = 0x02, Fan = 0x04, Intrusion = 0x05, PowerSupply = 0x08 };
const char* toString(SensorKind kind);

// CIM_Sensor.CurrentState / PossibleStates.
enum class SensorHealth { Good, Warning, Bad, Unknown };
const char* toString(SensorHealth health);

struct Thresholds {
  // A reading at or above an upper (at or below a lower) threshold is in that band; none = not monitored.
  std::optional<std::int64_t> lowerCritical, lowerNonCritical, upperNonCritical, upperCritical;
};

struct SensorState {
  std::string id;            // the control API's name: "cpu_temperature"
  std::string deviceId;      // CIM_Sensor.DeviceID: "Sensor 0"
  std::string elementName;   // "CPU Temperature"
  SensorKind kind = SensorKind::Temperature;
  std::uint8_t number = 0;   // the sensor number of its log records
  std::uint8_t entity = 0;   // IPMI entity id (3 processor, 23 chassis, 29 fan, 10 power supply)
  std::string unit;          // "degrees C", "mV", "RPM"; empty for a discrete sensor
  std::optional<std::int64_t> reading;  // discrete sensors (intrusion) have none
  Thresholds thresholds;
  SensorHealth health = SensorHealth::Good;
  bool asserted = false;     // discrete sensors: the event (intrusion) is present
};

struct FanState {
  std::string id;            // "cpu_fan"
  std::string deviceId;      // CIM_Fan.DeviceID: "Fan 0"
  std::string sensorId;      // its tachometer among the sensors
  bool failed = false;
};

struct PowerSupplyState {
  std::string id;            // "psu0"
  std::string deviceId;      // CIM_PowerSupply.DeviceID: "Power Supply 0"
  std::uint32_t totalOutputPowerMw = 500000;
  bool failed = false;
};

// What a change raises besides its log record: the WS-Eventing alert's content.
struct HardwareEvent {
  MessageLogEvent record;
  std::string messageId;            // see docs/hardware.md "Alerts"
  std::vector<std::string> arguments;  // device id, new state, reading (when there is one)
  std::uint16_t perceivedSeverity = 2;
};

// A change QA asks for; unset fields stay as they are.
struct SensorChange {
  std::optional<std::int64_t> reading;
  std::optional<SensorHealth> health;  // forced state (discrete sensors: Bad = asserted, Good = deasserted)
  std::optional<Thresholds> thresholds;
};

class HardwareModel {
 public:
  using Listener = std::function<void(const HardwareEvent&)>;
  // `inventory` as generated (and overridden) at start; `platform` receives the log records; `clock` stamps them.
  HardwareModel(PlatformModel& platform, const core::FirmwareClock& clock, HardwareInventory inventory);
  HardwareModel(const HardwareModel&) = delete;
  HardwareModel& operator=(const HardwareModel&) = delete;

  void setListener(Listener listener) { listener_ = std::move(listener); }

  const HardwareInventory& inventory() const { return inventory_; }
  const std::vector<SensorState>& sensors() const { return sensors_; }
  const std::vector<FanState>& fans() const { return fans_; }
  const std::vector<PowerSupplyState>& powerSupplies() const { return powerSupplies_; }
  const SensorState* sensor(std::string_view id) const;
  const FanState* fan(std::string_view id) const;
  const PowerSupplyState* powerSupply(std::string_view id) const;
  const SensorState* sensorByDeviceId(std::string_view deviceId) const;

  // Each returns the events it raised (none when nothing crossed a band); an error names what was wrong.
  Result<std::vector<HardwareEvent>> changeSensor(std::string_view id, const SensorChange& change);
  // A failed fan stops (its tachometer reads 0 RPM and goes Bad); restored, it spins at its nominal speed.
  Result<std::vector<HardwareEvent>> setFanFailed(std::string_view id, bool failed);
  Result<std::vector<HardwareEvent>> setPowerSupplyFailed(std::string_view id, bool failed);

  struct Stats {
    std::uint64_t events = 0;
    std::uint64_t writeFailures = 0;
  };
  const Stats& stats() const { return stats_; }
  const log::Context& logContext() const;

 private:
  SensorState* findSensor(std::string_view id);
  std::vector<HardwareEvent> evaluate(SensorState& s, SensorHealth before, std::optional<std::int64_t> oldReading);
  void emit(const std::vector<HardwareEvent>& events);

  PlatformModel& platform_;
  const core::FirmwareClock& clock_;
  HardwareInventory inventory_;
  std::vector<SensorState> sensors_;
  std::vector<FanState> fans_;
  std::vector<PowerSupplyState> powerSupplies_;
  Listener listener_;
  Stats stats_;
};

// The band a reading falls in (Good / Warning for non-critical / Bad for critical).
SensorHealth bandOf(const Thresholds& t, std::int64_t reading);

inline constexpr std::int64_t kNominalFanRpm = 1800;

}  // namespace mesim::platform
