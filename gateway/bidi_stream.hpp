// A bidirectional gRPC stream (callback API) whose responses may come from any thread: the
// watch stream (responses from the state machine's watch hub) and the lease keep-alive stream
// (responses as each renewal applies). gRPC allows one write in flight, so responses queue in an
// outbox; the outbox is bounded in bytes, and what is over the bound is refused so the producer
// can act (the watch hub cancels a slow watcher) instead of the queue growing without limit.
//
// Lifetime: gRPC deletes nothing; the reactor deletes itself in OnDone. Producers hold the
// outbox (shared), never the reactor, and the outbox refuses everything once finishing begins, so
// no write starts on a reactor that is gone (Finish is called only with no write in flight).
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>

namespace aegis::gateway {

template <class Response>
class outbox {
 public:
  using start_write_fn = std::function<void(const Response*)>;
  using finish_fn = std::function<void(const grpc::Status&)>;

  outbox(size_t max_queued_bytes, start_write_fn write, finish_fn finish)
      : max_queued_bytes_(max_queued_bytes), write_(std::move(write)), finish_(std::move(finish)) {}

  // Queues a response. False (nothing queued) when the stream is finishing or, unless `force`,
  // when more than max_queued_bytes are waiting.
  bool send(Response r, bool force) {
    const Response* start = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finishing_) return false;
      if (!force && queued_bytes_ > max_queued_bytes_) return false;
      queued_bytes_ += r.ByteSizeLong();
      queue_.push_back(std::move(r));
      start = next_locked();
    }
    if (start) write_(start);
    return true;
  }

  // Ends the stream with `s` once the queued responses are written (the first call wins).
  void finish(const grpc::Status& s) {
    bool now = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finishing_) return;
      finishing_ = true;
      status_ = s;
      now = !writing_;
      if (now) finished_ = true;
    }
    if (now) finish_(s);
  }

  // gRPC's OnWriteDone: starts the next write, or the deferred finish.
  void write_done(bool ok) {
    const Response* start = nullptr;
    std::optional<grpc::Status> finish_now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queued_bytes_ -= std::min(queued_bytes_, in_flight_.ByteSizeLong());
      writing_ = false;
      if (!ok) {  // the client is gone: nothing more can be written
        queue_.clear();
        queued_bytes_ = 0;
        if (!finishing_) {
          finishing_ = true;
          status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
        }
      }
      start = next_locked();
      if (!start && finishing_ && !finished_) {
        finished_ = true;
        finish_now = status_;
      }
    }
    if (start) write_(start);
    if (finish_now) finish_(*finish_now);
  }

  bool finishing() const {
    std::lock_guard<std::mutex> lock(mu_);
    return finishing_;
  }

 private:
  const Response* next_locked() {
    if (writing_ || queue_.empty()) return nullptr;
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    return &in_flight_;
  }

  mutable std::mutex mu_;
  size_t max_queued_bytes_;
  start_write_fn write_;
  finish_fn finish_;
  std::deque<Response> queue_;
  size_t queued_bytes_ = 0;  // including the write in flight
  Response in_flight_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status status_;
};

// The reactor: subclasses handle each request and the end of the client's requests.
template <class Request, class Response>
class bidi_stream : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit bidi_stream(size_t max_queued_bytes)
      : outbox_(std::make_shared<outbox<Response>>(
            max_queued_bytes, [this](const Response* r) { this->StartWrite(r); },
            [this](const grpc::Status& s) { this->Finish(s); })) {}

  const std::shared_ptr<outbox<Response>>& out() const { return outbox_; }

 protected:
  // Call last in the subclass constructor.
  void start() { this->StartRead(&request_); }
  virtual void on_request(Request& r) = 0;
  // The client closed its side or went away: no more requests. Default: end the stream.
  virtual void on_reads_done() { outbox_->finish(grpc::Status::OK); }
  // Just before the reactor is deleted.
  virtual void on_done() {}

 private:
  void OnReadDone(bool ok) override {
    if (!ok) return on_reads_done();
    on_request(request_);
    if (!outbox_->finishing()) this->StartRead(&request_);
  }
  void OnWriteDone(bool ok) override { outbox_->write_done(ok); }
  void OnDone() override {
    on_done();
    delete this;
  }

  Request request_;
  std::shared_ptr<outbox<Response>> outbox_;
};

}  // namespace aegis::gateway
