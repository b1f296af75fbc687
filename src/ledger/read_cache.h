// Decoded tree nodes and state records kept in memory in front of RocksDB: applying a block reads
// about thirty of them per transfer, and a lookup in a large memtable costs a microsecond or more
// of cache misses (bench/ledger_tps). Built on RocksDB's sharded LRU cache, so it is bounded in
// bytes and safe to use from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include <chain/executor.h>
#include <chain/sparse_merkle.h>
#include <core/bytes.h>

namespace rocksdb {
class Cache;
}

namespace jiancang::ledger {

class ReadCache {
 public:
  explicit ReadCache(std::size_t capacityBytes);
  ~ReadCache();
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  // Tree nodes are stored under their own hash, so a cached node can never be stale.
  std::optional<chain::MerkleNode> findNode(const chain::Hash256& hash) const;
  void putNode(const chain::Hash256& hash, const chain::MerkleNode& node);

  // State records change only when a block commits. A reader that missed notes the commit
  // generation before reading storage, and its fill is dropped if a commit came in between:
  // otherwise a value read just before a commit could be cached after the commit's own update.
  struct StateLookup {
    bool hit = false;
    std::optional<core::Bytes> value;  // when hit: the record, or nullopt for "absent"
    std::uint64_t generation = 0;      // when missed: pass to fillState
  };
  StateLookup findState(core::ByteView key) const;
  void fillState(core::ByteView key, const std::optional<core::Bytes>& value,
                 std::uint64_t generation);
  // The writer, after each commit's write is durable: the new values of the changed keys.
  void commitState(const chain::StateChanges& changes);

 private:
  void insertState(core::ByteView key, const std::optional<core::Bytes>& value);

  std::shared_ptr<rocksdb::Cache> cache_;
  mutable std::mutex stateFillMutex_;  // orders fills against commits
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace jiancang::ledger
