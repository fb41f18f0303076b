// The reply to OPEN for mesim's device nodes and sysfs files.
#pragma once

#include <fuse_lowlevel.h>

#include <cstdint>

namespace mesim::fuse {

// fuse_open_out (include/uapi/linux/fuse.h). libfuse 3.14's fuse_file_info cannot express FOPEN_STREAM or
// FOPEN_PARALLEL_DIRECT_WRITES, so open is answered with the raw reply fuse_reply_open would send.
constexpr std::uint32_t kOpenDirectIo = 1u << 0;
constexpr std::uint32_t kOpenNonseekable = 1u << 2;
constexpr std::uint32_t kOpenStream = 1u << 4;
constexpr std::uint32_t kOpenParallelDirectWrites = 1u << 6;
// Like a character device: no file position, hence no f_pos lock (a parked read must not hold up a
// write on the same fd), and writes on different fds not serialised by the inode lock.
constexpr std::uint32_t kDeviceOpenFlags = kOpenDirectIo | kOpenNonseekable | kOpenStream | kOpenParallelDirectWrites;

constexpr std::uint32_t kSysfsOpenFlags = kOpenDirectIo;  // pread at offsets works, as metee expects

struct OpenReply {
  std::uint64_t fh;
  std::uint32_t openFlags;
  std::uint32_t padding;
};
static_assert(sizeof(OpenReply) == 16);

inline int replyOpen(fuse_req_t req, std::uint64_t fh, std::uint32_t flags) {
  const OpenReply reply{fh, flags, 0};
  return fuse_reply_buf(req, reinterpret_cast<const char*>(&reply), sizeof reply);
}

}  // namespace mesim::fuse
