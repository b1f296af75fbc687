// The node's JSON API under /api/v1: submit transactions, query blocks, transactions, tokens,
// series and accounts, fetch certificates, follow committed blocks and an account's events as
// server-sent events; plus /healthz, /readyz and /metrics. docs/API.md lists every route.
#pragma once

#include <chrono>
#include <memory>

#include <api/http_server.h>
#include <ledger/ledger.h>
#include <ordering/etcd_orderer.h>
#include <ordering/orderer.h>

namespace jiancang::api {

struct NodeApiOptions {
  // How long POST /transactions waits for the commit before answering "pending" (202).
  std::chrono::milliseconds commitWait{10'000};
  std::size_t maxPageSize = 200;
  // A consortium member's orderer, for GET /api/v1/consortium; null on a one-member chain.
  const ordering::EtcdOrderer* consortium = nullptr;
};

class NodeApi {
 public:
  NodeApi(ledger::Ledger& ledger, ordering::Orderer& orderer, NodeApiOptions options = {});
  ~NodeApi();
  NodeApi(const NodeApi&) = delete;
  NodeApi& operator=(const NodeApi&) = delete;

  void handle(const std::shared_ptr<Exchange>& exchange);
  // For the server's RequestObserver: counts and times each request by route.
  void observe(const HttpRequest& request, unsigned status, std::chrono::microseconds elapsed);
  // Closes the event streams (at shutdown).
  void closeStreams();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jiancang::api
