#include "wsman/ops/enumeration_contexts.h"

#include <cstdio>

namespace mesim::wsman::ops {

std::string EnumerationContexts::open(EnumerationContext context) {
  dropExpired();
  while (!contexts_.empty() && contexts_.size() >= capacity_) {
    auto oldest = contexts_.begin();
    for (auto it = contexts_.begin(); it != contexts_.end(); ++it)
      if (it->second.sequence < oldest->second.sequence) oldest = it;
    contexts_.erase(oldest);
  }
  ++counter_;
  // AMT numbers contexts with a little-endian counter in the first field (spec/wsman.md §1.3).
  char id[40];
  const auto c = static_cast<std::uint32_t>(counter_);
  std::snprintf(id, sizeof id, "%02X%02X%02X%02X-0000-0000-0000-%012llX", c & 0xFF, (c >> 8) & 0xFF, (c >> 16) & 0xFF,
                (c >> 24) & 0xFF, static_cast<unsigned long long>(counter_ >> 32));
  context.sequence = counter_;
  context.expires = clock_.now() + lifetime_;
  contexts_[id] = std::move(context);
  return id;
}

EnumerationContext* EnumerationContexts::find(const std::string& id) {
  auto it = contexts_.find(id);
  if (it == contexts_.end()) return nullptr;
  if (clock_.now() >= it->second.expires) {
    contexts_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void EnumerationContexts::touch(EnumerationContext& context) { context.expires = clock_.now() + lifetime_; }

bool EnumerationContexts::release(const std::string& id) { return contexts_.erase(id) > 0; }

void EnumerationContexts::dropExpired() {
  const auto now = clock_.now();
  for (auto it = contexts_.begin(); it != contexts_.end();) {
    if (now >= it->second.expires)
      it = contexts_.erase(it);
    else
      ++it;
  }
}

}  // namespace mesim::wsman::ops
