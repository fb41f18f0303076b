#include "firmware/core/firmware_clock.h"

namespace mesim::core {

// The one place firmware reads the system clock.
FirmwareClock::time_point SystemFirmwareClock::now() const { return std::chrono::system_clock::now(); }

}  // namespace mesim::core
