// The Prometheus text exposition format, version 0.0.4: HELP and TYPE lines, samples with escaped label values.
// Samples of a family stay together whatever order they are added in (the format requires it), so a writer can
// walk device by device.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mesim::app {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { Counter, Gauge };

struct MetricFamily {
  std::string_view name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; a counter's ends in _total
  MetricType type;
  std::string_view help;
};

struct MetricLabel {
  std::string_view name;
  std::string_view value;
};

class MetricsText {
 public:
  // HELP and TYPE of `family`, once: a family is listed even before it has a sample. Throws std::logic_error on a
  // name the format does not allow, a counter not named *_total, or a name declared twice with another type.
  void declare(const MetricFamily& family);

  // One sample; its family is declared if it was not. A label with an empty value is left out (Prometheus reads an
  // empty label as absent). Integers are written exactly, other numbers in their shortest exact form.
  template <typename Number>
    requires std::is_arithmetic_v<Number>
  void add(const MetricFamily& family, std::initializer_list<MetricLabel> labels, Number value) {
    if constexpr (std::is_floating_point_v<Number>) addSample(family, labels, formatNumber(static_cast<double>(value)));
    else if constexpr (std::is_signed_v<Number>) addSample(family, labels, std::to_string(static_cast<std::int64_t>(value)));
    else addSample(family, labels, std::to_string(static_cast<std::uint64_t>(value)));
  }

  // The exposition: every family in the order it was first declared.
  std::string text() const;

  // `value` as a label value: backslash, double quote and line feed escaped; bytes that are not UTF-8 replaced.
  static std::string escapeLabelValue(std::string_view value);
  static std::string formatNumber(double value);
  static bool validMetricName(std::string_view name);
  static bool validLabelName(std::string_view name);

 private:
  struct Block {
    std::string name;
    MetricType type;
    std::string head;     // HELP and TYPE lines
    std::string samples;
  };
  Block& blockOf(const MetricFamily& family);
  void addSample(const MetricFamily& family, std::initializer_list<MetricLabel> labels, const std::string& value);

  std::vector<Block> blocks_;
  std::map<std::string, std::size_t, std::less<>> byName_;  // index in blocks_
};

}  // namespace mesim::app
