#include "app/metrics_text.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "common/text_codecs.h"

namespace mesim::app {

namespace {
bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

// HELP text: backslash and line feed escaped (the format's rule for docstrings).
std::string escapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}
}  // namespace

bool MetricsText::validMetricName(std::string_view name) {
  if (name.empty() || !(isLetter(name[0]) || name[0] == ':')) return false;
  for (char c : name)
    if (!isLetter(c) && !isDigit(c) && c != ':') return false;
  return true;
}

bool MetricsText::validLabelName(std::string_view name) {
  if (name.empty() || !isLetter(name[0]) || name.starts_with("__")) return false;  // "__" is Prometheus's own
  for (char c : name)
    if (!isLetter(c) && !isDigit(c)) return false;
  return true;
}

std::string MetricsText::escapeLabelValue(std::string_view value) {
  if (!text::isValidUtf8(value)) return escapeLabelValue(text::toValidUtf8(value));
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string MetricsText::formatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : "NaN";
}

MetricsText::Block& MetricsText::blockOf(const MetricFamily& family) {
  if (auto it = byName_.find(family.name); it != byName_.end()) {
    Block& block = blocks_[it->second];
    if (block.type != family.type) throw std::logic_error("metric " + block.name + " declared with two types");
    return block;
  }
  if (!validMetricName(family.name)) throw std::logic_error("invalid metric name '" + std::string(family.name) + "'");
  if (family.type == MetricType::Counter && !family.name.ends_with("_total"))
    throw std::logic_error("counter " + std::string(family.name) + " is not named *_total");
  const std::string name(family.name);
  std::string head = "# HELP " + name + " " + escapeHelp(family.help) + "\n# TYPE " + name + " " +
                     (family.type == MetricType::Counter ? "counter" : "gauge") + "\n";
  byName_.emplace(name, blocks_.size());
  blocks_.push_back({name, family.type, std::move(head), {}});
  return blocks_.back();
}

void MetricsText::declare(const MetricFamily& family) { blockOf(family); }

void MetricsText::addSample(const MetricFamily& family, std::initializer_list<MetricLabel> labels,
                            const std::string& value) {
  for (const auto& label : labels)
    if (!validLabelName(label.name)) throw std::logic_error("invalid label name '" + std::string(label.name) + "'");
  Block& block = blockOf(family);
  std::string& out = block.samples;
  out += block.name;
  bool first = true;
  for (const auto& label : labels) {
    if (label.value.empty()) continue;
    out += first ? "{" : ",";
    first = false;
    out.append(label.name);
    out += "=\"";
    out += escapeLabelValue(label.value);
    out += '"';
  }
  if (!first) out += '}';
  out += ' ';
  out += value;
  out += '\n';
}

std::string MetricsText::text() const {
  std::size_t size = 0;
  for (const auto& block : blocks_) size += block.head.size() + block.samples.size();
  std::string out;
  out.reserve(size);
  for (const auto& block : blocks_) {
    out += block.head;
    out += block.samples;
  }
  return out;
}

}  // namespace mesim::app
