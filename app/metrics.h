// GET /metrics: the process's and every device's counters in the Prometheus text format (docs/metrics.md). Read
// from the stats the components keep anyway, at scrape time: serving a request costs no more than before.
#pragma once

#include <memory>
#include <vector>

#include "app/control_server.h"
#include "app/metrics_text.h"

namespace mesim::app {

class ControlRoutes;
class Device;

// One device's series, each labelled device="NAME".
void writeDeviceMetrics(MetricsText& out, const Device& device);

// What the process shell knows of itself.
struct ProcessFacts {
  std::size_t devices = 0;
  std::size_t readyDevices = 0;
  std::size_t controlConnectionsOpen = 0;
  const ControlServerStats* control = nullptr;
};
// The process's series: devices, the control API, process_* (CPU, memory, descriptors, start time from /proc).
void writeProcessMetrics(MetricsText& out, const ProcessFacts& facts);

// The whole exposition: the process's series and every device's.
ControlResponse metricsResponse(const ProcessFacts& facts, const std::vector<std::unique_ptr<Device>>& devices);

// GET /metrics of one device, reached as /devices/NAME/metrics (the unprefixed /metrics is the process's).
void addMetricsRoutes(ControlRoutes& routes);

}  // namespace mesim::app
