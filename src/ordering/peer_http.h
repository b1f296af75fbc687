// Plain HTTP requests to other members' APIs (libcurl): forwarding transactions to the leader
// and fetching blocks that etcd no longer holds.
#pragma once

#include <chrono>
#include <string>

#include <core/status.h>

namespace jiancang::ordering {

struct PeerAnswer {
  long status = 0;
  std::string body;
};

// GET when `body` is empty, else POST of `body` as `contentType`. Not thread-safe per thread
// handle: each calling thread keeps one connection per peer alive.
core::Result<PeerAnswer> peerRequest(const std::string& url, const std::string& body,
                                     const std::string& contentType,
                                     std::chrono::milliseconds timeout);

}  // namespace jiancang::ordering
