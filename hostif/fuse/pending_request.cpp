#include "hostif/fuse/pending_request.h"

#include <vector>

namespace mesim::fuse {

std::shared_ptr<PendingRequest> RequestBook::track(fuse_req_t req, bool interruptible) {
  auto pending = std::make_shared<PendingRequest>(shared_from_this(), req);
  // Registered before the request can be answered (which frees it); libfuse calls back at once if the
  // interrupt already arrived.
  if (interruptible) fuse_req_interrupt_func(req, &RequestBook::onInterrupt, this);
  return pending;
}

void RequestBook::answerAll(int err) {
  std::vector<PendingRequest*> open;
  open.reserve(open_.size());
  for (auto& [req, pending] : open_) open.push_back(pending);
  for (PendingRequest* pending : open) pending->replyErr(err);
}

void RequestBook::onInterrupt(fuse_req_t req, void* book) { static_cast<RequestBook*>(book)->interrupt(req); }

void RequestBook::interrupt(fuse_req_t req) {
  auto it = open_.find(req);
  if (it == open_.end()) return;
  PendingRequest& pending = *it->second;
  pending.interrupted_ = true;
  // Without a ticket yet, setTicket() cancels as soon as the call has started.
  if (pending.ticket_ && hostAttached_) host_.cancel(*pending.ticket_);
}

PendingRequest::PendingRequest(std::shared_ptr<RequestBook> book, fuse_req_t req) : book_(std::move(book)), req_(req) {
  book_->open_[req] = this;
}

void PendingRequest::setTicket(host::Ticket ticket) {
  if (!req_) return;
  ticket_ = ticket;
  if (interrupted_ && book_->hostAttached_) book_->host_.cancel(ticket);
}

}  // namespace mesim::fuse
