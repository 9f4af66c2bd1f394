// WriteQueue: the output of one connection, which any thread joins without a mutex, and in which
// the first writer writes for everyone queued behind it (brpc's Socket::StartWrite is the model).
//
// The queue is an atomic pointer to the newest WriteRequest of a singly linked list whose links
// point to older requests. Push() exchanges the request in: a thread that finds the list empty
// becomes the queue's one owner, the only thread that may write; the others link their request
// behind the previous head and return at once. The owner takes requests oldest first (Front,
// PopFront): when it has none left it picks up the ones that piled up meanwhile, reversing their
// links into arrival order; when there are none, TryRelease() hands the queue back (empty). The
// owner may pass its role to another thread (the event loop, when the socket is full) through
// anything that orders memory (a task queue); the role is never shared.
//
// Order: requests are taken in the order their Push() exchanges happened, which for one thread is
// the order of its calls. A thread that pushes while another owns waits for nothing; the owner
// may wait (yielding) for a pusher between its two steps (exchange, link), a few instructions
// and, if it borrowed bytes, a copy of them.
//
// Closing: Poison() (owner) drops every request and keeps the queue owned for good, so nothing is
// ever written again; later Push() calls report kDropped and their requests are freed with the
// queue.
//
// Ownership: Push() takes the request; the queue frees it once popped or dropped. Thread safety:
// Push() from any thread; everything else only by the owner, one thread at a time.
#ifndef FRAMERPC_TRANSPORT_WRITE_QUEUE_H_
#define FRAMERPC_TRANSPORT_WRITE_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace framerpc {

struct WriteRequest {
  enum class Kind : unsigned char {
    kData,  // bytes to write
    kEnd,   // its bytes (maybe none) are the last: the output ends after them
  };

  WriteRequest() = default;
  WriteRequest(std::string h, std::string t, Kind k = Kind::kData)
      : head(std::move(h)), tail(std::move(t)), kind(k) {}
  WriteRequest(const WriteRequest&) = delete;
  WriteRequest& operator=(const WriteRequest&) = delete;

  // The bytes: `head`, then the tail (`borrowed` if set, else `tail`).
  absl::string_view tail_view() const { return borrowed.empty() ? absl::string_view(tail) : borrowed; }
  size_t size() const { return head.size() + tail_view().size(); }
  size_t left() const { return size() - written; }
  bool done() const { return written == size(); }

  std::string head;
  std::string tail;
  // Bytes the pushing thread lends: only an owner's own request may hold them, and only until
  // that thread returns from its send (it copies what is left into `tail` before passing the
  // role on, OwnBorrowed).
  absl::string_view borrowed;
  Kind kind = Kind::kData;
  // Counted in the connection's queued bytes (and budget): set before the request is linked.
  bool counted = false;
  size_t written = 0;  // owner: bytes of it already written

  // Pusher: the older request; after pick-up, owner: the newer one (null for the newest).
  std::atomic<WriteRequest*> next{nullptr};
};

class WriteQueue {
 public:
  enum class PushResult {
    kOwner,    // the queue was empty: the caller owns it and must write (or pass the role on)
    kQueued,   // the owner will write it
    kDropped,  // the queue is poisoned: it will never be written
  };

  WriteQueue() = default;
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // Any thread. Appends `request`. `borrowed` (may be empty): bytes that follow its head and
  // live until the caller's send returns; an owner writes them from where they are, a queued
  // request copies them into its tail first. `count`: run for a queued request before it is
  // linked (so before the owner can see it), e.g. to count its bytes as queued.
  template <typename CountFn>
  PushResult Push(std::unique_ptr<WriteRequest> request, absl::string_view borrowed,
                  CountFn count);
  PushResult Push(std::unique_ptr<WriteRequest> request) {
    return Push(std::move(request), absl::string_view(), [](WriteRequest*) {});
  }

  // Owner. The oldest request not yet popped, after picking up every request queued so far (so
  // that Next() reaches them all); null if none.
  WriteRequest* Front();
  // Owner. The request after `request` among those picked up (null: none yet). For gathering
  // several requests into one write.
  static WriteRequest* Next(WriteRequest* request) {
    return request->next.load(std::memory_order_relaxed);
  }
  // Owner. Removes Front() (written or dropped) and frees it.
  void PopFront();
  // Owner. The front request copies what is left of its borrowed bytes into its tail.
  void OwnBorrowed();
  // Owner, with Front() null: gives the queue up. False if requests came meanwhile (the caller
  // still owns it and must write them).
  bool TryRelease();
  // Owner. Drops every request and keeps the queue owned for good. Returns the bytes left in
  // the dropped requests that were counted (WriteRequest::counted).
  size_t Poison();
  // Any thread: true once poisoned.
  bool poisoned() const;

  // Any thread. An empty request, reusing one this thread freed if it kept one: each thread keeps
  // up to 64 freed requests (about 8 KiB), so that a thread that both queues and writes (a
  // server's loop replying to a batch) allocates none per request.
  static std::unique_ptr<WriteRequest> NewRequest();

 private:
  static WriteRequest* Unlinked();
  static WriteRequest* PoisonMark();
  // Pusher: links a queued request after `older`.
  static void Link(WriteRequest* request, WriteRequest* older) {
    request->next.store(older, std::memory_order_release);
  }
  // Owner: the older request `request` was linked to (waits for its pusher to link it).
  static WriteRequest* WaitForLink(WriteRequest* request);
  // Owner: appends the requests pushed after last_ to the picked-up ones; false if there are
  // none.
  bool PickUp();
  // Frees the requests pushed from `newest` down to (not including) `stop`; returns the counted
  // bytes they held.
  size_t FreeChain(WriteRequest* newest, WriteRequest* stop);
  // Frees `request`, or keeps it for this thread's NewRequest().
  static void Recycle(WriteRequest* request);

  std::atomic<WriteRequest*> head_{nullptr};  // the newest request; null: no owner
  std::atomic<bool> poisoned_{false};
  // Owner only: the picked-up requests, oldest first (front_ .. last_, linked by `next`).
  // last_ is kept, even written, while it may still be head_: freeing it would let a new
  // request reuse its address and fool TryRelease's compare (ABA).
  WriteRequest* front_ = nullptr;
  WriteRequest* last_ = nullptr;
};

template <typename CountFn>
WriteQueue::PushResult WriteQueue::Push(std::unique_ptr<WriteRequest> request,
                                        absl::string_view borrowed, CountFn count) {
  WriteRequest* r = request.release();
  r->borrowed = borrowed;
  r->next.store(Unlinked(), std::memory_order_relaxed);
  WriteRequest* older = head_.exchange(r, std::memory_order_acq_rel);
  if (older == nullptr) {
    r->next.store(nullptr, std::memory_order_relaxed);
    front_ = r;
    last_ = r;
    return PushResult::kOwner;
  }
  if (!r->borrowed.empty()) {
    r->tail.assign(r->borrowed.data(), r->borrowed.size());
    r->borrowed = absl::string_view();
  }
  // After the exchange: a poisoning whose exchange came first is seen (the exchanges order it).
  const bool dropped = poisoned_.load(std::memory_order_acquire);
  if (!dropped) count(r);
  Link(r, older);
  return dropped ? PushResult::kDropped : PushResult::kQueued;
}

}  // namespace framerpc

#endif  // FRAMERPC_TRANSPORT_WRITE_QUEUE_H_
