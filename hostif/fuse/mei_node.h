// dev/mei0 and its sysfs attributes (sys/class/mei/mei0/*) on a FUSE mount: each call maps 1:1 onto
// host::MeiHost (spec/mei.md §1). A call that has to wait keeps its request and is answered later from the
// host's callback; the loop never blocks.
//
// Threading: loop only (FuseMount dispatches requests there).
#pragma once

#include <fuse_lowlevel.h>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>

#include "hostif/fuse/fs_tree.h"
#include "hostif/fuse/open_reply.h"
#include "hostif/fuse/pending_request.h"
#include "hostif/host/mei_host.h"

namespace mesim::fuse {

class MeiNode : public std::enable_shared_from_this<MeiNode> {
 public:
  explicit MeiNode(host::MeiHost& host) : host_(host) {}
  MeiNode(const MeiNode&) = delete;
  MeiNode& operator=(const MeiNode&) = delete;

  // `node` is dev/mei0 or a sysfs attribute of it.
  void open(fuse_req_t req, const Node& node, int flags);
  void read(RequestBook& book, fuse_req_t req, const Node& node, std::size_t size, off_t offset,
            const fuse_file_info* fi);
  void write(RequestBook& book, fuse_req_t req, const Node& node, const char* buf, std::size_t size,
             const fuse_file_info* fi);
  // dev/mei0 only:
  void fsync(RequestBook& book, fuse_req_t req, host::FileId file);
  void release(host::FileId file);
  void ioctl(RequestBook& book, fuse_req_t req, host::FileId file, unsigned cmd, const void* in,
             std::size_t inSize, std::size_t outSize);
  void poll(fuse_req_t req, host::FileId file, short requested, fuse_pollhandle* ph);

  // Serving starts (a mount) or ends: at the end no poll notification is sent any more and the host files
  // still open are closed (their releases will never come).
  void serve();
  void endServing();

 private:
  struct OpenFile {
    int flags = 0;                          // the latest f_flags seen (ioctl requests do not carry them)
    fuse_pollhandle* pollHandle = nullptr;  // the kernel's wait queue for this file, once it asked
  };

  void openDevice(fuse_req_t req, int flags);
  void connect(RequestBook& book, fuse_req_t req, host::FileId file, const void* in, std::size_t size,
               bool withVtag);
  void rememberFlags(host::FileId file, int flags);
  void forgetFile(host::FileId file);
  void notifyPoll(host::FileId file);

  host::MeiHost& host_;
  bool serving_ = false;
  std::map<host::FileId, OpenFile> files_;
};

}  // namespace mesim::fuse
