// A client of etcd's v3 API through its JSON gateway (HTTP/1.1 + JSON, over libcurl): the few
// calls the etcd orderer needs — range, put, a compare-and-swap transaction, leases, compaction,
// status and a streaming watch. Keys and values are bytes (base64 on the wire); revisions are
// etcd's global order of changes.
//
// Why the gateway and not gRPC: the same JSON library the rest of jiancang uses, no generated
// code, and every call can be replayed with curl when debugging. A watch is one long HTTP
// response of newline-separated JSON objects.
//
// Not thread-safe: each thread that talks to etcd owns a client (one keep-alive connection).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <core/bytes.h>
#include <core/status.h>

namespace jiancang::ordering {

struct EtcdKeyValue {
  std::string key;
  core::Bytes value;
  std::int64_t createRevision = 0;
  std::int64_t modRevision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;
};

struct EtcdRangeResult {
  std::vector<EtcdKeyValue> kvs;
  std::int64_t revision = 0;  // the store's revision when it answered
  bool more = false;          // a limit cut the range short
};

// One "equal" condition of a transaction.
struct EtcdCompare {
  enum class Target { kModRevision, kCreateRevision, kVersion, kValue };
  std::string key;
  Target target = Target::kModRevision;
  std::int64_t number = 0;  // for the revision and version targets
  core::Bytes value;        // for kValue
};

struct EtcdPut {
  std::string key;
  core::Bytes value;
  std::int64_t lease = 0;
};

struct EtcdTxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;
};

struct EtcdWatchEvent {
  bool deleted = false;
  EtcdKeyValue kv;
};

// What a watch reports: a batch of events, all at or after the watch's start revision.
struct EtcdWatchBatch {
  std::vector<EtcdWatchEvent> events;
  std::int64_t revision = 0;
};

struct EtcdMemberStatus {
  std::string endpoint;
  bool reachable = false;
  std::string error;  // why not, when unreachable
  std::string version;
  std::uint64_t memberId = 0;
  std::uint64_t leaderId = 0;  // 0: the member knows no leader (no quorum)
  std::uint64_t raftTerm = 0;
  std::int64_t dbSize = 0;
};

// The end of the range of every key that starts with `prefix` (etcd's range_end).
std::string etcdPrefixEnd(std::string prefix);

class EtcdClient {
 public:
  // `endpoints`: client URLs (http://127.0.0.1:2379); a call that cannot reach one tries the
  // next. `timeout`: for one unary call.
  EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Keys in [key, rangeEnd) (just `key` when rangeEnd is empty), at most `limit` (0: all).
  core::Result<EtcdRangeResult> range(const std::string& key, const std::string& rangeEnd = {},
                                      std::int64_t limit = 0, bool keysOnly = false);
  core::Result<std::int64_t> put(const EtcdPut& put);
  // Deletes [key, rangeEnd); returns the revision after.
  core::Result<std::int64_t> deleteRange(const std::string& key, const std::string& rangeEnd);
  // If every compare holds, does every put; atomically.
  core::Result<EtcdTxnResult> txn(const std::vector<EtcdCompare>& compares,
                                  const std::vector<EtcdPut>& puts);
  core::Result<std::int64_t> leaseGrant(std::chrono::seconds ttl);
  // The lease's time to live after the renewal; 0 when it has expired.
  core::Result<std::int64_t> leaseKeepAlive(std::int64_t lease);
  core::Status leaseRevoke(std::int64_t lease);
  // Forgets the history before `revision` (keys' current values stay).
  core::Status compact(std::int64_t revision);
  // The status of every endpoint, each asked on its own.
  std::vector<EtcdMemberStatus> status();

  // Watches [key, rangeEnd) from `startRevision`, calling `onBatch` for every batch of events
  // until it returns false, `stop` becomes true, or the stream fails (a status says why;
  // "etcd-compacted" when the start revision's history is gone, with the revision to restart
  // from in the message). Blocks the calling thread; uses its own connection.
  core::Status watch(const std::string& key, const std::string& rangeEnd,
                     std::int64_t startRevision,
                     const std::function<bool(const EtcdWatchBatch&)>& onBatch,
                     const std::atomic<bool>& stop);

  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  // POSTs `body` to `path` on the current endpoint (then the others); the parsed answer.
  core::Result<std::string> call(const std::string& path, const std::string& body);

  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
  std::size_t current_ = 0;
  struct Handle;
  std::unique_ptr<Handle> handle_;
};

}  // namespace jiancang::ordering
