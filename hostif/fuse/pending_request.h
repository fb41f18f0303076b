// FUSE requests that are answered later, from the loop (bmcweb's AsyncResp): the first reply wins, a request
// dropped unanswered gets EIO, an interrupt (a signal in the caller) cancels the host call it waits on, and
// stop() answers whatever is left with ENODEV. One RequestBook per FUSE session; it keeps the session alive
// while any of its requests is, so a late reply never reaches a destroyed session.
//
// Threading: loop only. libfuse calls every operation and interrupt on the loop (FuseMount reads /dev/fuse
// there), and the host's callbacks run there too.
#pragma once

#include <fuse_lowlevel.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include "hostif/host/mei_host.h"

namespace mesim::fuse {

class PendingRequest;

class RequestBook : public std::enable_shared_from_this<RequestBook> {
 public:
  // `session` is destroyed with the last of the book's requests; `host` is where interrupts cancel.
  RequestBook(std::shared_ptr<fuse_session> session, host::MeiHost& host)
      : session_(std::move(session)), host_(host) {}
  RequestBook(const RequestBook&) = delete;
  RequestBook& operator=(const RequestBook&) = delete;

  // A handle that answers `req` once; `interruptible` requests may be cancelled by the caller's signal.
  std::shared_ptr<PendingRequest> track(fuse_req_t req, bool interruptible);
  // Answers every request still open with `err` (the session is going away).
  void answerAll(int err);
  std::size_t open() const { return open_.size(); }
  // After the front end is destroyed, interrupts no longer reach the host, which may be gone.
  void detachHost() { hostAttached_ = false; }

 private:
  friend class PendingRequest;
  static void onInterrupt(fuse_req_t req, void* book);
  void interrupt(fuse_req_t req);

  std::shared_ptr<fuse_session> session_;
  host::MeiHost& host_;
  bool hostAttached_ = true;
  std::unordered_map<fuse_req_t, PendingRequest*> open_;
};

class PendingRequest {
 public:
  PendingRequest(std::shared_ptr<RequestBook> book, fuse_req_t req);
  ~PendingRequest() { replyErr(EIO); }
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  // Sends the reply unless one was sent; the result of `send`, or -ENOENT when there was nobody to answer.
  template <class Send>
  int reply(Send&& send) {
    if (!req_) return -ENOENT;
    fuse_req_t req = std::exchange(req_, nullptr);
    book_->open_.erase(req);
    return send(req);
  }
  void replyErr(int err) {
    reply([err](fuse_req_t req) { return fuse_reply_err(req, err); });
  }
  void replyIoctl(const void* data, std::size_t size) {
    reply([data, size](fuse_req_t req) { return fuse_reply_ioctl(req, 0, data, size); });
  }
  // The host's handle for this wait, so an interrupt can cancel it (at once if it already came).
  void setTicket(host::Ticket ticket);

 private:
  friend class RequestBook;
  std::shared_ptr<RequestBook> book_;
  fuse_req_t req_;  // null once answered
  std::optional<host::Ticket> ticket_;
  bool interrupted_ = false;
};

}  // namespace mesim::fuse
