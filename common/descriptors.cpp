#include "common/descriptors.h"

#include <sys/resource.h>

#include <limits>

namespace mesim::descriptors {

std::size_t limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return std::numeric_limits<std::size_t>::max();
  return static_cast<std::size_t>(rl.rlim_cur);
}

bool intoReserve(int fd, std::size_t reserve) {
  if (fd < 0 || reserve == 0) return false;
  const std::size_t max = limit();
  return max <= reserve || static_cast<std::size_t>(fd) >= max - reserve;
}

}  // namespace mesim::descriptors
