#include "firmware/platform/hardware_model.h"

#include <algorithm>

#include "common/log.h"
#include "firmware/platform/platform_model.h"

namespace mesim::platform {
namespace {

constexpr const char* kLog = "hardware";

// IPMI event/reading type 01h (threshold) offsets; bit 7 of a PET offset marks a deassertion.
constexpr std::uint8_t kLowerNonCriticalLow = 0x00;
constexpr std::uint8_t kLowerCriticalLow = 0x02;
constexpr std::uint8_t kUpperNonCriticalHigh = 0x07;
constexpr std::uint8_t kUpperCriticalHigh = 0x09;
constexpr std::uint8_t kDeassertion = 0x80;
constexpr std::uint8_t kEventTypeThreshold = 0x01;
constexpr std::uint8_t kEventTypeSensorSpecific = 0x6F;
// PET severities (features.md §6) and the CIM_AlertIndication.PerceivedSeverity that goes with them.
constexpr std::uint8_t kSeverityOk = 0x04, kSeverityNonCritical = 0x08, kSeverityCritical = 0x10;
constexpr std::uint16_t kPerceivedInformation = 2, kPerceivedDegraded = 3, kPerceivedCritical = 6;
constexpr std::uint8_t kSourceTypeAsf = 0x68;

// The unit of a reading in the one byte of IPMI event data 2/3 (docs/hardware.md).
std::int64_t byteScale(SensorKind kind) {
  switch (kind) {
    case SensorKind::Voltage: return 20;  // 20 mV
    case SensorKind::Fan: return 30;      // 30 RPM
    default: return 1;                    // degrees C
  }
}

std::uint8_t toEventByte(SensorKind kind, std::int64_t value) {
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(value / byteScale(kind), 0, 0xFE));
}

// Messages IDs of the alerts (docs/hardware.md "Alerts": chosen by mesim, one per sensor type).
std::string messageIdOf(SensorKind kind) {
  switch (kind) {
    case SensorKind::Temperature: return "PLAT0004";
    case SensorKind::Voltage: return "PLAT0005";
    case SensorKind::Fan: return "PLAT0006";
    case SensorKind::Intrusion: return "PLAT0007";
    case SensorKind::PowerSupply: return "PLAT0008";
  }
  return "PLAT0000";
}

// The offset of the band a reading is in (the threshold it crossed), and that threshold.
std::pair<std::uint8_t, std::int64_t> crossing(const Thresholds& t, SensorHealth band, std::optional<std::int64_t> reading) {
  const bool low = reading && ((t.lowerCritical && *reading <= *t.lowerCritical) ||
                               (t.lowerNonCritical && *reading <= *t.lowerNonCritical));
  if (band == SensorHealth::Bad) {
    if (low) return {kLowerCriticalLow, t.lowerCritical.value_or(0)};
    return {kUpperCriticalHigh, t.upperCritical.value_or(reading.value_or(0))};
  }
  if (low) return {kLowerNonCriticalLow, t.lowerNonCritical.value_or(0)};
  return {kUpperNonCriticalHigh, t.upperNonCritical.value_or(reading.value_or(0))};
}

std::vector<SensorState> defaultSensors() {
  std::vector<SensorState> s(4);
  s[0] = {"cpu_temperature", "Sensor 0", "CPU Temperature", SensorKind::Temperature, 1, 3, "degrees C", 45,
          Thresholds{std::nullopt, std::nullopt, 85, 100}};
  s[1] = {"cpu_voltage", "Sensor 1", "CPU Core Voltage", SensorKind::Voltage, 2, 3, "mV", 1100,
          Thresholds{800, 900, 1400, 1500}};
  s[2] = {"cpu_fan_speed", "Sensor 2", "CPU Fan Tachometer", SensorKind::Fan, 3, 29, "RPM", kNominalFanRpm,
          Thresholds{300, 600, std::nullopt, std::nullopt}};
  s[3] = {"chassis_intrusion", "Sensor 3", "Chassis Intrusion", SensorKind::Intrusion, 4, 23, "", std::nullopt, {}};
  return s;
}

}  // namespace

const char* toString(SensorKind kind) {
  switch (kind) {
    case SensorKind::Temperature: return "temperature";
    case SensorKind::Voltage: return "voltage";
    case SensorKind::Fan: return "fan";
    case SensorKind::Intrusion: return "intrusion";
    case SensorKind::PowerSupply: return "power_supply";
  }
  return "?";
}

const char* toString(SensorHealth health) {
  switch (health) {
    case SensorHealth::Good: return "Good";
    case SensorHealth::Warning: return "Warning";
    case SensorHealth::Bad: return "Bad";
    case SensorHealth::Unknown: return "Unknown";
  }
  return "Unknown";
}

SensorHealth bandOf(const Thresholds& t, std::int64_t r) {
  if ((t.upperCritical && r >= *t.upperCritical) || (t.lowerCritical && r <= *t.lowerCritical)) return SensorHealth::Bad;
  if ((t.upperNonCritical && r >= *t.upperNonCritical) || (t.lowerNonCritical && r <= *t.lowerNonCritical))
    return SensorHealth::Warning;
  return SensorHealth::Good;
}

const log::Context& HardwareModel::logContext() const { return platform_.logContext(); }

HardwareModel::HardwareModel(PlatformModel& platform, const core::FirmwareClock& clock, HardwareInventory inventory)
    : platform_(platform), clock_(clock), inventory_(std::move(inventory)), sensors_(defaultSensors()) {
  fans_.push_back({"cpu_fan", "Fan 0", "cpu_fan_speed", false});
  powerSupplies_.push_back({"psu0", "Power Supply 0", 500000, false});
}

const SensorState* HardwareModel::sensor(std::string_view id) const {
  for (const auto& s : sensors_)
    if (s.id == id) return &s;
  return nullptr;
}
SensorState* HardwareModel::findSensor(std::string_view id) { return const_cast<SensorState*>(sensor(id)); }

const SensorState* HardwareModel::sensorByDeviceId(std::string_view deviceId) const {
  for (const auto& s : sensors_)
    if (s.deviceId == deviceId) return &s;
  return nullptr;
}

const FanState* HardwareModel::fan(std::string_view id) const {
  for (const auto& f : fans_)
    if (f.id == id) return &f;
  return nullptr;
}

const PowerSupplyState* HardwareModel::powerSupply(std::string_view id) const {
  for (const auto& p : powerSupplies_)
    if (p.id == id) return &p;
  return nullptr;
}

std::vector<HardwareEvent> HardwareModel::evaluate(SensorState& s, SensorHealth before,
                                                   std::optional<std::int64_t> oldReading) {
  if (s.health == before) return {};
  HardwareEvent e;
  auto& r = e.record;
  r.sensorType = static_cast<std::uint8_t>(s.kind);
  r.sourceType = kSourceTypeAsf;
  r.sensorNumber = s.number;
  r.entity = s.entity;
  r.entityInstance = 0;
  std::fill(std::begin(r.eventData), std::end(r.eventData), 0);
  if (s.kind == SensorKind::Intrusion) {
    // Sensor-specific offset 00h "general chassis intrusion", asserted or deasserted.
    r.eventType = kEventTypeSensorSpecific;
    r.offset = s.asserted ? 0x00 : kDeassertion;
    r.severity = s.asserted ? kSeverityCritical : kSeverityOk;
    r.eventData[0] = 0x00;
    r.eventData[1] = r.eventData[2] = 0xFF;
    e.perceivedSeverity = s.asserted ? kPerceivedCritical : kPerceivedInformation;
  } else {
    r.eventType = kEventTypeThreshold;
    // Into a worse band: the crossing of that band asserted; back to Good: the band left, deasserted.
    const bool recovered = s.health == SensorHealth::Good;
    const auto band = recovered ? before : s.health;
    auto [offset, threshold] = crossing(s.thresholds, band, recovered ? oldReading : s.reading);
    r.offset = recovered ? static_cast<std::uint8_t>(offset | kDeassertion) : offset;
    r.severity = recovered ? kSeverityOk : s.health == SensorHealth::Bad ? kSeverityCritical : kSeverityNonCritical;
    // IPMI event data 1: 01b trigger reading in byte 2, 01b trigger threshold in byte 3, the offset.
    r.eventData[0] = static_cast<std::uint8_t>(0x50 | (offset & 0x0F));
    r.eventData[1] = toEventByte(s.kind, s.reading.value_or(0));
    r.eventData[2] = toEventByte(s.kind, threshold);
    e.perceivedSeverity = recovered ? kPerceivedInformation
                          : s.health == SensorHealth::Bad ? kPerceivedCritical : kPerceivedDegraded;
  }
  e.messageId = messageIdOf(s.kind);
  e.arguments = {s.deviceId, toString(s.health)};
  if (s.reading) e.arguments.push_back(std::to_string(*s.reading));
  return {e};
}

void HardwareModel::emit(const std::vector<HardwareEvent>& events) {
  if (events.empty()) return;
  const auto now = core::unixSeconds(clock_.now());
  auto result = platform_.update([&](PlatformState& state) {
    for (const auto& e : events) appendMessageLogRecord(state, makeMessageLogRecord(e.record, now));
  });
  if (result != ChangeResult::Ok) ++stats_.writeFailures;  // the platform model logged why; the alert still goes
  for (const auto& e : events) {
    ++stats_.events;
    MESIM_LOG(Info, kLog, sensorTypeName(e.record.sensorType) << " event: " << e.arguments.front() << " -> "
                                                                << e.arguments[1] << " (" << e.messageId << ")");
    if (listener_) listener_(e);
  }
}

Result<std::vector<HardwareEvent>> HardwareModel::changeSensor(std::string_view id, const SensorChange& change) {
  SensorState* s = findSensor(id);
  if (!s) return fail("no sensor " + std::string(id));
  if (s->kind == SensorKind::Intrusion && (change.reading || change.thresholds))
    return fail("sensor " + std::string(id) + " is discrete: it has a state, no reading or thresholds");
  if (change.health == SensorHealth::Unknown) return fail("a sensor's state is good, warning or bad");
  if (s->kind == SensorKind::Intrusion && change.health == SensorHealth::Warning)
    return fail("sensor " + std::string(id) + " is discrete: its state is good or bad");
  if (change.reading && change.health) return fail("give a reading or a state, not both");
  const SensorHealth before = s->health;
  const auto oldReading = s->reading;
  if (change.thresholds) {
    const auto& t = *change.thresholds;
    if ((t.lowerCritical && t.lowerNonCritical && *t.lowerCritical > *t.lowerNonCritical) ||
        (t.upperCritical && t.upperNonCritical && *t.upperCritical < *t.upperNonCritical))
      return fail("critical thresholds must lie outside the non-critical ones");
    s->thresholds = t;
  }
  if (change.reading) s->reading = *change.reading;
  if (s->kind == SensorKind::Intrusion) {
    if (change.health) s->asserted = *change.health == SensorHealth::Bad;
    s->health = s->asserted ? SensorHealth::Bad : SensorHealth::Good;
  } else if (change.health) {
    // A forced state puts the reading at the threshold of that band, so reading and state agree.
    const auto& t = s->thresholds;
    if (*change.health == SensorHealth::Good && s->reading && bandOf(t, *s->reading) != SensorHealth::Good) {
      const std::int64_t mid = s->kind == SensorKind::Fan ? kNominalFanRpm
                               : t.upperNonCritical && t.lowerNonCritical ? (*t.upperNonCritical + *t.lowerNonCritical) / 2
                               : t.upperNonCritical ? *t.upperNonCritical - 10
                               : t.lowerNonCritical ? *t.lowerNonCritical + 10 : 0;
      s->reading = mid;
    } else if (*change.health == SensorHealth::Bad) {
      if (s->kind == SensorKind::Fan && t.lowerCritical) s->reading = *t.lowerCritical;
      else if (t.upperCritical) s->reading = *t.upperCritical;
      else if (t.lowerCritical) s->reading = *t.lowerCritical;
    } else if (*change.health == SensorHealth::Warning) {
      if (s->kind == SensorKind::Fan && t.lowerNonCritical) s->reading = *t.lowerNonCritical;
      else if (t.upperNonCritical) s->reading = *t.upperNonCritical;
      else if (t.lowerNonCritical) s->reading = *t.lowerNonCritical;
    }
    s->health = s->reading ? bandOf(t, *s->reading) : *change.health;
    if (s->health != *change.health) s->health = *change.health;  // no threshold for that band: the state wins
  } else if (s->reading) {
    s->health = bandOf(s->thresholds, *s->reading);
  }
  auto events = evaluate(*s, before, oldReading);
  emit(events);
  return events;
}

Result<std::vector<HardwareEvent>> HardwareModel::setFanFailed(std::string_view id, bool failed) {
  auto it = std::find_if(fans_.begin(), fans_.end(), [&](const FanState& f) { return f.id == id; });
  if (it == fans_.end()) return fail("no fan " + std::string(id));
  it->failed = failed;
  SensorChange change;
  change.reading = failed ? 0 : kNominalFanRpm;
  return changeSensor(it->sensorId, change);
}

Result<std::vector<HardwareEvent>> HardwareModel::setPowerSupplyFailed(std::string_view id, bool failed) {
  auto it = std::find_if(powerSupplies_.begin(), powerSupplies_.end(),
                         [&](const PowerSupplyState& p) { return p.id == id; });
  if (it == powerSupplies_.end()) return fail("no power supply " + std::string(id));
  if (it->failed == failed) return std::vector<HardwareEvent>{};
  it->failed = failed;
  HardwareEvent e;
  auto& r = e.record;
  // Sensor type 08h, sensor-specific offset 01h "power supply failure detected".
  r.sensorType = static_cast<std::uint8_t>(SensorKind::PowerSupply);
  r.eventType = kEventTypeSensorSpecific;
  r.offset = failed ? 0x01 : (0x01 | kDeassertion);
  r.sourceType = kSourceTypeAsf;
  r.severity = failed ? kSeverityCritical : kSeverityOk;
  r.sensorNumber = static_cast<std::uint8_t>(0x10 + (it - powerSupplies_.begin()));
  r.entity = 10;  // power supply
  r.eventData[0] = 0x01;
  r.eventData[1] = r.eventData[2] = 0xFF;
  e.messageId = messageIdOf(SensorKind::PowerSupply);
  e.arguments = {it->deviceId, failed ? "Bad" : "Good"};
  e.perceivedSeverity = failed ? kPerceivedCritical : kPerceivedInformation;
  std::vector<HardwareEvent> events{e};
  emit(events);
  return events;
}

}  // namespace mesim::platform
