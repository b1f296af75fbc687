#include <ledger/read_cache.h>

#include <rocksdb/cache.h>

namespace jiancang::ledger {
namespace {

// Keys: 'n' + node hash, or 's' + state key; one cache, one byte budget.
std::string cacheKey(char kind, core::ByteView key) {
  std::string out(1, kind);
  out.append(reinterpret_cast<const char*>(key.data()), key.size());
  return out;
}

template <typename Value>
void deleteValue(const rocksdb::Slice& /*key*/, void* value) {
  delete static_cast<Value*>(value);
}

// What an entry costs beyond its key: the value and the cache's own bookkeeping.
constexpr std::size_t kEntryOverhead = 64;

}  // namespace

ReadCache::ReadCache(std::size_t capacityBytes) : cache_(rocksdb::NewLRUCache(capacityBytes)) {}

ReadCache::~ReadCache() = default;

std::optional<chain::MerkleNode> ReadCache::findNode(const chain::Hash256& hash) const {
  const std::string key = cacheKey('n', hash.view());
  rocksdb::Cache::Handle* handle = cache_->Lookup(key);
  if (handle == nullptr) return std::nullopt;
  chain::MerkleNode node = *static_cast<const chain::MerkleNode*>(cache_->Value(handle));
  cache_->Release(handle);
  return node;
}

void ReadCache::putNode(const chain::Hash256& hash, const chain::MerkleNode& node) {
  const std::string key = cacheKey('n', hash.view());
  // Insert takes ownership of the value even when it fails, so the status can be ignored: a
  // failed insert only means a later miss.
  (void)cache_->Insert(key, new chain::MerkleNode(node),
                       key.size() + sizeof(chain::MerkleNode) + kEntryOverhead,
                       &deleteValue<chain::MerkleNode>);
}

ReadCache::StateLookup ReadCache::findState(core::ByteView key) const {
  StateLookup lookup;
  lookup.generation = generation_.load(std::memory_order_acquire);
  rocksdb::Cache::Handle* handle = cache_->Lookup(cacheKey('s', key));
  if (handle == nullptr) return lookup;
  lookup.hit = true;
  lookup.value = *static_cast<const std::optional<core::Bytes>*>(cache_->Value(handle));
  cache_->Release(handle);
  return lookup;
}

void ReadCache::fillState(core::ByteView key, const std::optional<core::Bytes>& value,
                          std::uint64_t generation) {
  std::lock_guard lock(stateFillMutex_);
  if (generation_.load(std::memory_order_acquire) != generation) return;
  insertState(key, value);
}

void ReadCache::commitState(const chain::StateChanges& changes) {
  std::lock_guard lock(stateFillMutex_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (const auto& [key, value] : changes) insertState(key, value);
}

void ReadCache::insertState(core::ByteView key, const std::optional<core::Bytes>& value) {
  const std::string cached = cacheKey('s', key);
  const std::size_t charge = cached.size() + (value ? value->size() : 0) +
                             sizeof(std::optional<core::Bytes>) + kEntryOverhead;
  (void)cache_->Insert(cached, new std::optional<core::Bytes>(value), charge,
                       &deleteValue<std::optional<core::Bytes>>);
}

}  // namespace jiancang::ledger
