#include <ledger/ledger.h>

#include <algorithm>
#include <limits>
#include <map>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chain/memory_chain.h>
#include <chain/state_keys.h>
#include <ledger/read_cache.h>

namespace jiancang::ledger {
namespace {

// Column families (docs/FORMATS.md, "Ledger storage").
enum Family : std::size_t {
  kDefault,
  kMeta,
  kBlocks,
  kAttestations,
  kTransactions,
  kState,
  kNodes,
  kIndexes,
  kFamilyCount
};
const char* const kFamilyNames[kFamilyCount] = {"default",      "meta",  "blocks", "attestations",
                                                "transactions", "state", "nodes",  "indexes"};

constexpr std::string_view kGenesisKey = "genesis";
constexpr std::string_view kHeadKey = "head";
constexpr std::string_view kFinalHeightKey =
    "final_height";  // consortium finality, see addAttestations

// Index key prefixes.
constexpr char kBlockByHash = 'b';
constexpr char kTokenHistory = 'h';
constexpr char kTokensOfOwner = 'o';
constexpr char kHolding = 'c';            // (series, owner) → tokens held
constexpr char kHolders = 'n';            // series → distinct holders
constexpr char kMembershipChanges = 'm';  // (height, index) → a membership change applied

Status ioError(const rocksdb::Status& status, const std::string& what) {
  return {core::ErrorCode::kIoError, "storage-error", what + ": " + status.ToString()};
}

Status corrupt(std::string reason, std::string message) {
  return {core::ErrorCode::kCorruption, std::move(reason), std::move(message)};
}

rocksdb::Slice slice(ByteView bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
rocksdb::Slice slice(std::string_view text) { return {text.data(), text.size()}; }
ByteView view(const rocksdb::Slice& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
// RocksDB counts every comparison and block read in a thread-local perf context unless told
// otherwise per thread; nothing here reads those counts, and reaching the thread-local was a
// fifteenth of the orderer's time (bench/ledger_tps).
void withoutPerfCounters() {
  thread_local const bool done = [] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return true;
  }();
  static_cast<void>(done);
}

Bytes toBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

class KeyWriter {
 public:
  explicit KeyWriter(char prefix) { key_.push_back(static_cast<std::uint8_t>(prefix)); }
  KeyWriter() = default;
  KeyWriter& number(std::uint64_t value, int bytes = 8) {
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8)
      key_.push_back(static_cast<std::uint8_t>(value >> shift));
    return *this;
  }
  KeyWriter& raw(ByteView bytes) {
    key_.insert(key_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  KeyWriter& token(const chain::TokenId& token) {
    return number(token.series.value()).number(token.serial);
  }
  Bytes take() { return std::move(key_); }

 private:
  Bytes key_;
};

std::uint64_t readNumber(ByteView bytes, std::size_t at, int width = 8) {
  std::uint64_t value = 0;
  for (int i = 0; i < width; ++i) value = value << 8 | bytes[at + static_cast<std::size_t>(i)];
  return value;
}

// A block's writes, handed to RocksDB in key order within each column family. With the insert
// hints set in open(), a memtable insert starts its skip-list search from where the previous one
// ended, so keys in order cost the few lowest levels each, where the hash-like keys of tree nodes
// and transactions in their own order cost a search from the top: most of the orderer's time at
// saturation (bench/ledger_tps).
class KeyOrderedBatch {
 public:
  void put(rocksdb::ColumnFamilyHandle* family, Bytes key, Bytes value) {
    entries_.push_back({family, family->GetID(), std::move(key), std::move(value), false});
  }
  void erase(rocksdb::ColumnFamilyHandle* family, Bytes key) {
    entries_.push_back({family, family->GetID(), std::move(key), {}, true});
  }
  // Stable, so two writes to one key keep their order (a token's holder entry removed by one
  // transfer and put back by a later one in the same block). Pointers are sorted, not entries.
  void writeInto(rocksdb::WriteBatch& batch) const {
    std::vector<const Entry*> order;
    order.reserve(entries_.size());
    for (const Entry& entry : entries_) order.push_back(&entry);
    std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
      if (a->familyId != b->familyId) return a->familyId < b->familyId;
      return a->key < b->key;
    });
    for (const Entry* entry : order) {
      if (entry->erased) {
        batch.Delete(entry->family, slice(entry->key));
      } else {
        batch.Put(entry->family, slice(entry->key), slice(entry->value));
      }
    }
  }

 private:
  struct Entry {
    rocksdb::ColumnFamilyHandle* family;
    std::uint32_t familyId;
    Bytes key;
    Bytes value;
    bool erased;
  };
  std::vector<Entry> entries_;
};

Bytes heightKey(std::uint64_t height) { return KeyWriter().number(height).take(); }

Bytes encodeVarint(std::uint64_t value) {
  core::Writer writer;
  writer.varint(value);
  return std::move(writer).take();
}
std::uint64_t decodeVarint(const std::string& bytes) {
  core::Reader reader(view(rocksdb::Slice(bytes)));
  std::uint64_t value = reader.varint();
  return reader.failed() ? 0 : value;
}

Bytes encodeEvent(const OwnershipEvent& event) {
  core::Writer writer;
  writer.u8(static_cast<std::uint8_t>(event.kind));
  writer.fixed(event.txHash.view());
  writer.fixed(event.from.view());
  writer.fixed(event.to.view());
  return std::move(writer).take();
}

std::optional<OwnershipEvent> decodeEvent(ByteView key, ByteView value) {
  // key: 'h' ‖ series ‖ serial ‖ height ‖ tx index ‖ sequence
  if (key.size() != 1 + 16 + 8 + 4 + 4) return std::nullopt;
  core::Reader reader(value);
  OwnershipEvent event;
  std::uint8_t kind = reader.u8();
  if (kind < 1 || kind > 3) return std::nullopt;
  event.kind = static_cast<OwnershipEvent::Kind>(kind);
  reader.readInto(event.txHash.mutableArray());
  reader.readInto(event.from.mutableArray());
  reader.readInto(event.to.mutableArray());
  if (!reader.finish().isOk()) return std::nullopt;
  event.height = readNumber(key, 17);
  event.transactionIndex = static_cast<std::uint32_t>(readNumber(key, 25, 4));
  return event;
}

Bytes encodeAttestations(const std::vector<chain::Attestation>& attestations) {
  core::Writer writer;
  writer.count(attestations.size());
  for (const auto& attestation : attestations) writer.bytes(core::encode(attestation));
  return std::move(writer).take();
}

Bytes encodeTransactionEntry(const TransactionEntry& entry) {
  core::Writer writer;
  writer.varint(entry.height);
  writer.varint(entry.index);
  writer.bytes(core::encode(entry.transaction));
  writer.bytes(core::encode(entry.receipt));
  return std::move(writer).take();
}

// Cursors are opaque to clients: the hex of the last key of the previous page.
std::string cursorOf(ByteView key) { return core::toHex(key); }

}  // namespace

std::string_view ownershipEventKindName(OwnershipEvent::Kind kind) {
  switch (kind) {
    case OwnershipEvent::Kind::kMint:
      return "mint";
    case OwnershipEvent::Kind::kTransfer:
      return "transfer";
    case OwnershipEvent::Kind::kBurn:
      return "burn";
  }
  return "unknown";
}

void Head::encodeTo(core::Writer& writer) const {
  writer.varint(height);
  writer.fixed(blockHash.view());
  writer.fixed(stateRoot.view());
  writer.signedVarint(timestamp.unixMillis());
}

Head Head::decodeFrom(core::Reader& reader) {
  Head head;
  head.height = reader.varint();
  reader.readInto(head.blockHash.mutableArray());
  reader.readInto(head.stateRoot.mutableArray());
  head.timestamp = core::Timestamp::fromUnixMillis(reader.signedVarint());
  return head;
}

class Ledger::Impl {
 public:
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::WriteOptions writeOptions;
  std::unique_ptr<ReadCache> cache;

  ~Impl() {
    for (auto* family : families) {
      if (family != nullptr) db->DestroyColumnFamilyHandle(family);
    }
  }

  rocksdb::ColumnFamilyHandle* family(Family f) const { return families[f]; }

  std::optional<std::string> read(Family f, rocksdb::Slice key,
                                  const rocksdb::Snapshot* snapshot = nullptr) const {
    withoutPerfCounters();
    rocksdb::ReadOptions options;
    options.snapshot = snapshot;
    std::string value;
    rocksdb::Status status = db->Get(options, family(f), key, &value);
    if (status.IsNotFound()) return std::nullopt;
    if (!status.ok()) return std::nullopt;  // reported as absent; check() finds real damage
    return value;
  }
};

core::Result<std::unique_ptr<Ledger>> Ledger::open(const std::filesystem::path& directory,
                                                   const std::optional<chain::Genesis>& genesis,
                                                   const LedgerOptions& options) {
  auto impl = std::make_unique<Impl>();
  rocksdb::Options dbOptions;
  dbOptions.create_if_missing = true;
  dbOptions.create_missing_column_families = true;
  dbOptions.IncreaseParallelism(2);
  dbOptions.max_open_files = 512;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.blockCacheBytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  rocksdb::ColumnFamilyOptions familyOptions;
  familyOptions.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Tree nodes and state are read point-wise by hash-like keys: keep their filters whole.
  familyOptions.optimize_filters_for_hits = false;
  // A block writes thousands of random keys, and a skip-list insert is mostly cache misses: one
  // costs about 4 us in a 64 MiB memtable on this machine, 2.8 us in 16 MiB, 1.9 us in 4 MiB.
  familyOptions.write_buffer_size = 8u << 20;
  // With a hint, an insert starts from where the previous insert of the same leading byte ended
  // and climbs only as far as the gap between the two: KeyOrderedBatch hands a block's keys over
  // in order, so that is a few levels instead of a search from the top.
  familyOptions.memtable_insert_with_hint_prefix_extractor.reset(
      rocksdb::NewFixedPrefixTransform(1));

  // Every submission looks its hash up among the committed transactions, and nearly always
  // misses: a bloom filter on the memtable answers that without walking it.
  rocksdb::ColumnFamilyOptions transactionOptions = familyOptions;
  transactionOptions.memtable_prefix_bloom_size_ratio = 0.02;
  transactionOptions.memtable_whole_key_filtering = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::size_t f = 0; f < kFamilyCount; ++f) {
    descriptors.emplace_back(kFamilyNames[f],
                             f == kTransactions ? transactionOptions : familyOptions);
  }
  std::error_code ignored;
  std::filesystem::create_directories(directory, ignored);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(dbOptions, directory.string(), descriptors, &impl->families, &raw);
  if (!status.ok()) {
    return Status(core::ErrorCode::kIoError, "ledger-open-failed",
                  "cannot open the ledger in " + directory.string() + ": " + status.ToString());
  }
  impl->db.reset(raw);
  impl->writeOptions.sync = options.syncWrites;
  impl->cache = std::make_unique<ReadCache>(options.readCacheBytes);

  std::optional<std::string> storedGenesis = impl->read(kMeta, slice(kGenesisKey));
  chain::Genesis chosen;
  if (storedGenesis) {
    auto decoded = core::decode<chain::Genesis>(view(rocksdb::Slice(*storedGenesis)));
    if (!decoded) return corrupt("ledger-genesis-corrupt", decoded.status().message());
    if (genesis && !(*genesis == *decoded)) {
      return Status(core::ErrorCode::kFailedPrecondition, "ledger-other-chain",
                    "the ledger in " + directory.string() +
                        " belongs to another chain (its genesis differs from the one given)");
    }
    chosen = std::move(decoded).value();
  } else {
    if (!genesis) {
      return Status(core::ErrorCode::kNotFound, "ledger-empty",
                    "no ledger in " + directory.string() + " and no genesis to start one");
    }
    auto outcome = chain::applyGenesis(*genesis);
    if (!outcome) return outcome.status();
    chosen = *genesis;
    rocksdb::WriteBatch batch;
    batch.Put(impl->family(kMeta), slice(kGenesisKey), slice(core::encode(*genesis)));
    for (const auto& [key, value] : outcome->changes) {
      if (value) batch.Put(impl->family(kState), slice(key), slice(*value));
    }
    for (const auto& [hash, node] : outcome->newNodes) {
      batch.Put(impl->family(kNodes), slice(hash.view()), slice(chain::encodeMerkleNode(node)));
    }
    Head head{0, outcome->blockHash, outcome->stateRoot, genesis->timestamp};
    batch.Put(impl->family(kMeta), slice(kHeadKey), slice(core::encode(head)));
    rocksdb::WriteOptions synced;
    synced.sync = true;
    status = impl->db->Write(synced, &batch);
    if (!status.ok()) return ioError(status, "writing the genesis state");
  }

  std::unique_ptr<Ledger> ledger(new Ledger(std::move(impl), std::move(chosen)));
  auto headBytes = ledger->impl_->read(kMeta, slice(kHeadKey));
  if (!headBytes) return corrupt("ledger-head-missing", "the ledger has a genesis but no head");
  auto head = core::decode<Head>(view(rocksdb::Slice(*headBytes)));
  if (!head) return corrupt("ledger-head-corrupt", head.status().message());
  ledger->head_ = *head;
  return ledger;
}

Ledger::Ledger(std::unique_ptr<Impl> impl, chain::Genesis genesis)
    : impl_(std::move(impl)),
      genesis_(std::move(genesis)),
      parameters_(chain::chainParametersOf(genesis_)) {}

Ledger::~Ledger() = default;

Head Ledger::head() const {
  std::lock_guard lock(headMutex_);
  return head_;
}

std::optional<Bytes> Ledger::get(ByteView key) const {
  ReadCache::StateLookup cached = impl_->cache->findState(key);
  if (cached.hit) return std::move(cached.value);
  auto stored = impl_->read(kState, slice(key));
  std::optional<Bytes> value;
  if (stored) value = toBytes(*stored);
  impl_->cache->fillState(key, value, cached.generation);
  return value;
}

std::optional<chain::MerkleNode> Ledger::findNode(const chain::Hash256& hash) const {
  if (auto cached = impl_->cache->findNode(hash)) return cached;
  auto value = impl_->read(kNodes, slice(hash.view()));
  if (!value) return std::nullopt;
  auto node = chain::decodeMerkleNode(view(rocksdb::Slice(*value)));
  if (node) impl_->cache->putNode(hash, *node);
  return node;
}

core::Result<CommittedBlock> Ledger::commit(const chain::Block& block,
                                            const chain::BlockOutcome& outcome,
                                            const std::vector<chain::Attestation>& attestations,
                                            bool synced) {
  Head previous = head();
  if (block.header.height != previous.height + 1) {
    return Status(core::ErrorCode::kFailedPrecondition, "ledger-wrong-height",
                  "the ledger is at height " + std::to_string(previous.height) +
                      ", the block is at " + std::to_string(block.header.height));
  }
  if (outcome.transactionWrites.size() != outcome.receipts.size() ||
      outcome.receipts.size() != block.transactions.size()) {
    return Status(core::ErrorCode::kInternal, "ledger-outcome-incomplete",
                  "the block was applied without recording each transaction's writes");
  }
  withoutPerfCounters();
  KeyOrderedBatch writes;
  const std::uint64_t height = block.header.height;
  writes.put(impl_->family(kBlocks), heightKey(height), core::encode(block));
  writes.put(impl_->family(kAttestations), heightKey(height), encodeAttestations(attestations));
  writes.put(impl_->family(kIndexes), KeyWriter(kBlockByHash).raw(outcome.blockHash.view()).take(),
             heightKey(height));

  CommittedBlock committed;
  committed.head = Head{height, outcome.blockHash, outcome.stateRoot, block.header.timestamp};
  committed.transactionCount = block.transactions.size();

  // Token holder changes, transaction by transaction, against the values before each one.
  std::map<Bytes, std::optional<chain::TokenRecord>> tokensSoFar;
  std::map<Bytes, std::int64_t> holdingDelta;  // (series, owner) → tokens gained or lost
  auto tokenBefore = [&](const Bytes& key) -> std::optional<chain::TokenRecord> {
    if (auto known = tokensSoFar.find(key); known != tokensSoFar.end()) return known->second;
    auto bytes = get(key);
    if (!bytes) return std::nullopt;
    auto record = core::decode<chain::TokenRecord>(*bytes);
    if (!record) return std::nullopt;
    return *record;
  };
  auto holdingKey = [](chain::SeriesId series, const core::Address& owner) {
    return KeyWriter(kHolding).number(series.value()).raw(owner.view()).take();
  };
  std::uint32_t sequence = 0;
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const chain::Receipt& receipt = outcome.receipts[i];
    committed.transactions.push_back(receipt.txHash);
    TransactionEntry entry{height, static_cast<std::uint32_t>(i), block.transactions[i], receipt};
    writes.put(impl_->family(kTransactions), KeyWriter().raw(receipt.txHash.view()).take(),
               encodeTransactionEntry(entry));
    if (const auto* change =
            std::get_if<chain::ChangeMembership>(&block.transactions[i].transaction.operation);
        change != nullptr && receipt.code == core::ErrorCode::kOk) {
      writes.put(impl_->family(kIndexes),
                 KeyWriter(kMembershipChanges).number(height).number(i, 4).take(),
                 chain::encodeMembershipChange(*change));
    }
    for (const auto& [key, value] : outcome.transactionWrites[i]) {
      auto tokenId = chain::state_keys::parseTokenKey(key);
      if (!tokenId || !value) continue;
      auto after = core::decode<chain::TokenRecord>(*value);
      if (!after) return corrupt("ledger-token-corrupt", "a written token does not decode");
      std::optional<chain::TokenRecord> before = tokenBefore(key);
      OwnershipEvent event;
      event.height = height;
      event.transactionIndex = static_cast<std::uint32_t>(i);
      event.txHash = receipt.txHash;
      bool changed = true;
      if (!before) {
        event.kind = OwnershipEvent::Kind::kMint;
        event.to = after->owner;
      } else if (after->burned && !before->burned) {
        event.kind = OwnershipEvent::Kind::kBurn;
        event.from = before->owner;
      } else if (after->owner != before->owner) {
        event.kind = OwnershipEvent::Kind::kTransfer;
        event.from = before->owner;
        event.to = after->owner;
      } else {
        changed = false;  // frozen, rights used: not a change of hands
      }
      tokensSoFar[key] = *after;
      if (!changed) continue;
      writes.put(impl_->family(kIndexes),
                 KeyWriter(kTokenHistory)
                     .token(*tokenId)
                     .number(height)
                     .number(i, 4)
                     .number(sequence++, 4)
                     .take(),
                 encodeEvent(event));
      if (event.kind != OwnershipEvent::Kind::kMint) {
        writes.erase(impl_->family(kIndexes),
                     KeyWriter(kTokensOfOwner).raw(event.from.view()).token(*tokenId).take());
        --holdingDelta[holdingKey(tokenId->series, event.from)];
        committed.accountEvents.push_back({event.from, *tokenId, event});
      }
      if (event.kind != OwnershipEvent::Kind::kBurn) {
        writes.put(impl_->family(kIndexes),
                   KeyWriter(kTokensOfOwner).raw(event.to.view()).token(*tokenId).take(), Bytes());
        ++holdingDelta[holdingKey(tokenId->series, event.to)];
        committed.accountEvents.push_back({event.to, *tokenId, event});
      }
    }
  }
  committed.receipts = outcome.receipts;

  // Holder counts: a (series, owner) pair going from 0 to some, or back, moves the series' count.
  std::map<std::uint64_t, std::int64_t> holdersDelta;
  for (const auto& [key, delta] : holdingDelta) {
    if (delta == 0) continue;
    auto stored = impl_->read(kIndexes, slice(key));
    std::int64_t before = stored ? static_cast<std::int64_t>(decodeVarint(*stored)) : 0;
    std::int64_t after = before + delta;
    if (after < 0) return corrupt("ledger-index-corrupt", "a holding count went below zero");
    if (after == 0) {
      writes.erase(impl_->family(kIndexes), key);
    } else {
      writes.put(impl_->family(kIndexes), key, encodeVarint(static_cast<std::uint64_t>(after)));
    }
    std::uint64_t series = readNumber(key, 1);
    if (before == 0 && after > 0) ++holdersDelta[series];
    if (before > 0 && after == 0) --holdersDelta[series];
  }
  for (const auto& [series, delta] : holdersDelta) {
    if (delta == 0) continue;
    Bytes key = KeyWriter(kHolders).number(series).take();
    auto stored = impl_->read(kIndexes, slice(key));
    std::int64_t count = (stored ? static_cast<std::int64_t>(decodeVarint(*stored)) : 0) + delta;
    writes.put(impl_->family(kIndexes), key,
               encodeVarint(static_cast<std::uint64_t>(std::max<std::int64_t>(count, 0))));
  }

  for (const auto& [key, value] : outcome.changes) {
    if (value) {
      writes.put(impl_->family(kState), key, *value);
    } else {
      writes.erase(impl_->family(kState), key);
    }
  }
  for (const auto& [hash, node] : outcome.newNodes) {
    writes.put(impl_->family(kNodes), KeyWriter().raw(hash.view()).take(),
               chain::encodeMerkleNode(node));
  }
  writes.put(impl_->family(kMeta), Bytes(kHeadKey.begin(), kHeadKey.end()),
             core::encode(committed.head));

  rocksdb::WriteOptions writeOptions = impl_->writeOptions;
  if (!synced) writeOptions.sync = false;
  rocksdb::WriteBatch batch;
  writes.writeInto(batch);
  rocksdb::Status status = impl_->db->Write(writeOptions, &batch);
  if (!status.ok()) return ioError(status, "committing block " + std::to_string(height));
  // The next block reads the paths this one wrote.
  for (const auto& [hash, node] : outcome.newNodes) impl_->cache->putNode(hash, node);
  impl_->cache->commitState(outcome.changes);
  {
    std::lock_guard lock(headMutex_);
    head_ = committed.head;
  }
  return committed;
}

std::optional<chain::Block> Ledger::blockAt(std::uint64_t height) const {
  auto bytes = impl_->read(kBlocks, slice(heightKey(height)));
  if (!bytes) return std::nullopt;
  auto block = core::decode<chain::Block>(view(rocksdb::Slice(*bytes)));
  if (!block) return std::nullopt;
  return std::move(block).value();
}

std::optional<std::uint64_t> Ledger::heightOf(const core::BlockHash& hash) const {
  if (Head current = head(); hash == current.blockHash) return current.height;
  auto bytes = impl_->read(kIndexes, slice(KeyWriter(kBlockByHash).raw(hash.view()).take()));
  if (!bytes || bytes->size() != 8) return std::nullopt;
  return readNumber(view(rocksdb::Slice(*bytes)), 0);
}

std::vector<chain::Attestation> Ledger::attestationsAt(std::uint64_t height) const {
  std::vector<chain::Attestation> attestations;
  auto bytes = impl_->read(kAttestations, slice(heightKey(height)));
  if (!bytes) return attestations;
  core::Reader reader(view(rocksdb::Slice(*bytes)));
  std::size_t count = reader.count(1024, "attestations");
  for (std::size_t i = 0; i < count && !reader.failed(); ++i) {
    Bytes encoded = reader.bytes(4096, "attestation");
    auto attestation = core::decode<chain::Attestation>(encoded);
    if (attestation) attestations.push_back(std::move(attestation).value());
  }
  return attestations;
}

Status Ledger::addAttestations(std::uint64_t height,
                               const std::vector<chain::Attestation>& attestations,
                               std::uint64_t finalHeight) {
  if (height == 0 || height > head().height || finalHeight > head().height) {
    return core::failedPrecondition(
        "ledger-wrong-height",
        "no committed block at height " + std::to_string(std::max(height, finalHeight)));
  }
  std::lock_guard lock(attestationsMutex_);
  std::vector<chain::Attestation> merged = attestationsAt(height);
  bool changed = false;
  for (const chain::Attestation& attestation : attestations) {
    bool known = std::any_of(merged.begin(), merged.end(), [&](const chain::Attestation& have) {
      return have.member == attestation.member;
    });
    if (!known) {
      merged.push_back(attestation);
      changed = true;
    }
  }
  const bool advances = finalHeight > this->finalHeight();
  if (!changed && !advances) return {};
  rocksdb::WriteBatch batch;
  if (changed) {
    batch.Put(impl_->family(kAttestations), slice(heightKey(height)),
              slice(encodeAttestations(merged)));
  }
  if (advances) {
    core::Writer writer;
    writer.varint(finalHeight);
    batch.Put(impl_->family(kMeta), slice(kFinalHeightKey), slice(writer.data()));
  }
  rocksdb::Status written = impl_->db->Write(impl_->writeOptions, &batch);
  if (!written.ok()) {
    return Status(core::ErrorCode::kIoError, "ledger-write-failed", written.ToString());
  }
  return {};
}

Status Ledger::sync() {
  rocksdb::Status synced = impl_->db->SyncWAL();
  if (!synced.ok()) return ioError(synced, "syncing the write-ahead log");
  return {};
}

std::uint64_t Ledger::finalHeight() const {
  auto bytes = impl_->read(kMeta, slice(kFinalHeightKey));
  if (!bytes) return 0;
  core::Reader reader(view(rocksdb::Slice(*bytes)));
  std::uint64_t height = reader.varint();
  return reader.finish().isOk() ? height : 0;
}

std::optional<TransactionEntry> Ledger::transaction(const core::TxHash& hash) const {
  auto bytes = impl_->read(kTransactions, slice(hash.view()));
  if (!bytes) return std::nullopt;
  core::Reader reader(view(rocksdb::Slice(*bytes)));
  TransactionEntry entry;
  entry.height = reader.varint();
  entry.index = static_cast<std::uint32_t>(reader.varint());
  Bytes transaction = reader.bytes(1u << 20, "transaction");
  Bytes receipt = reader.bytes(1u << 20, "receipt");
  if (!reader.finish().isOk()) return std::nullopt;
  auto decodedTransaction = core::decode<chain::SignedTransaction>(transaction);
  auto decodedReceipt = core::decode<chain::Receipt>(receipt);
  if (!decodedTransaction || !decodedReceipt) return std::nullopt;
  entry.transaction = std::move(decodedTransaction).value();
  entry.receipt = std::move(decodedReceipt).value();
  return entry;
}

namespace {

// Iterates keys under `prefix`, after the cursor's key if any, up to `limit` items.
template <typename Visit>
core::Result<std::string> scanPage(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family,
                                   const Bytes& prefix, const std::string& cursor,
                                   std::size_t limit, Visit visit) {
  Bytes start = prefix;
  bool skipFirst = false;
  if (!cursor.empty()) {
    auto decoded = core::fromHex(cursor);
    if (!decoded || decoded->size() < prefix.size() ||
        !std::equal(prefix.begin(), prefix.end(), decoded->begin())) {
      return core::invalidArgument("bad-cursor", "the cursor does not belong to this listing");
    }
    start = std::move(decoded).value();
    skipFirst = true;
  }
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, family));
  std::size_t taken = 0;
  std::string next;
  Bytes lastKey;
  for (it->Seek(slice(start)); it->Valid(); it->Next()) {
    ByteView key = view(it->key());
    if (key.size() < prefix.size() || !std::equal(prefix.begin(), prefix.end(), key.begin())) break;
    if (skipFirst && std::equal(key.begin(), key.end(), start.begin(), start.end())) continue;
    if (taken == limit) {
      next = cursorOf(lastKey);  // there is more
      break;
    }
    visit(key, view(it->value()));
    lastKey.assign(key.begin(), key.end());
    ++taken;
  }
  if (!it->status().ok()) return ioError(it->status(), "reading an index");
  return next;
}

}  // namespace

core::Result<std::vector<MembershipChangeEntry>> Ledger::membershipChangesBelow(
    std::uint64_t height) const {
  std::vector<MembershipChangeEntry> changes;
  Status failure;
  auto scanned =
      scanPage(*impl_->db, impl_->family(kIndexes), KeyWriter(kMembershipChanges).take(), {},
               std::numeric_limits<std::size_t>::max(), [&](ByteView key, ByteView value) {
                 const std::uint64_t at = readNumber(key, 1);
                 if (at >= height || !failure.isOk()) return;
                 auto change = chain::decodeMembershipChange(value);
                 if (!change) {
                   failure = corrupt("ledger-index-corrupt",
                                     "a membership change in the index does not decode");
                   return;
                 }
                 changes.push_back({at, std::move(change).value()});
               });
  if (!scanned) return scanned.status();
  if (!failure.isOk()) return failure;
  return changes;
}

core::Result<Page<OwnershipEvent>> Ledger::tokenHistory(const chain::TokenId& token,
                                                        const std::string& cursor,
                                                        std::size_t limit) const {
  Page<OwnershipEvent> page;
  auto next =
      scanPage(*impl_->db, impl_->family(kIndexes), KeyWriter(kTokenHistory).token(token).take(),
               cursor, limit, [&](ByteView key, ByteView value) {
                 if (auto event = decodeEvent(key, value)) page.items.push_back(*event);
               });
  if (!next) return next.status();
  page.nextCursor = *next;
  return page;
}

core::Result<Page<chain::TokenId>> Ledger::tokensOf(const core::Address& owner,
                                                    const std::string& cursor,
                                                    std::size_t limit) const {
  Page<chain::TokenId> page;
  auto next = scanPage(*impl_->db, impl_->family(kIndexes),
                       KeyWriter(kTokensOfOwner).raw(owner.view()).take(), cursor, limit,
                       [&](ByteView key, ByteView) {
                         if (key.size() != 1 + 20 + 16) return;
                         page.items.push_back(chain::TokenId{chain::SeriesId(readNumber(key, 21)),
                                                             readNumber(key, 29)});
                       });
  if (!next) return next.status();
  page.nextCursor = *next;
  return page;
}

std::uint64_t Ledger::holdersOf(chain::SeriesId series) const {
  auto stored = impl_->read(kIndexes, slice(KeyWriter(kHolders).number(series.value()).take()));
  return stored ? decodeVarint(*stored) : 0;
}

core::Result<Ledger::ProvenState> Ledger::proveAtHead(const std::vector<Bytes>& keys) const {
  const rocksdb::Snapshot* snapshot = impl_->db->GetSnapshot();
  struct Release {
    rocksdb::DB& db;
    const rocksdb::Snapshot* snapshot;
    ~Release() { db.ReleaseSnapshot(snapshot); }
  } release{*impl_->db, snapshot};
  auto headBytes = impl_->read(kMeta, slice(kHeadKey), snapshot);
  if (!headBytes) return corrupt("ledger-head-missing", "the ledger has no head");
  auto head = core::decode<Head>(view(rocksdb::Slice(*headBytes)));
  if (!head) return head.status();
  ProvenState proven{*head, {}};
  for (const Bytes& key : keys) {
    auto value = impl_->read(kState, slice(key), snapshot);
    std::optional<Bytes> bytes;
    if (value) bytes = toBytes(*value);
    auto proof = chain::proveState(*this, head->stateRoot, parameters_.crypto(), key, bytes);
    if (!proof) return proof.status();
    proven.proofs.push_back(std::move(proof).value());
  }
  return proven;
}

Status Ledger::check(const CheckProgress& progress) const {
  Head stored = head();
  auto replay = chain::MemoryChain::create(genesis_);
  if (!replay) return replay.status();
  std::vector<MembershipChangeEntry> membershipChanges;  // as the replay applies them
  for (std::uint64_t height = 1; height <= stored.height; ++height) {
    auto block = blockAt(height);
    if (!block) {
      return corrupt("check-block-missing", "block " + std::to_string(height) + " is missing");
    }
    auto consortium = core::decode<chain::ConsortiumRecord>(
        replay->get(chain::state_keys::consortium()).value_or(Bytes{}));
    auto outcome = replay->apply(*block);
    if (!outcome) {
      return corrupt("check-block-invalid", "block " + std::to_string(height) +
                                                " does not replay: " + outcome.status().message());
    }
    auto indexed = heightOf(outcome->blockHash);
    if (!indexed || *indexed != height) {
      return corrupt("check-hash-index",
                     "block " + std::to_string(height) + "'s hash is not indexed at its height");
    }
    for (std::size_t i = 0; i < outcome->receipts.size(); ++i) {
      auto entry = transaction(outcome->receipts[i].txHash);
      if (!entry || entry->height != height || entry->index != i ||
          !(entry->receipt == outcome->receipts[i])) {
        return corrupt("check-receipt-mismatch", "transaction " + std::to_string(i) + " of block " +
                                                     std::to_string(height) +
                                                     " is missing or its receipt differs");
      }
      if (const auto* change =
              std::get_if<chain::ChangeMembership>(&block->transactions[i].transaction.operation);
          change != nullptr && outcome->receipts[i].code == core::ErrorCode::kOk) {
        membershipChanges.push_back({height, *change});
      }
    }
    if (consortium) {
      // Every stored signature must be by a member in force before the block, over exactly
      // this block and root. A block may hold fewer than a quorum: a consortium member stores
      // its own signature first and the others' as they arrive, and a node that is not a
      // member (yet) stores none until a quorum's arrive. A lone member's is the quorum.
      const std::size_t required = consortium->members.size() == 1 ? 1 : 0;
      Status signatures =
          chain::verifyAttestations(parameters_, consortium->members, required, height,
                                    outcome->blockHash, outcome->stateRoot, attestationsAt(height));
      if (!signatures.isOk()) {
        return corrupt("check-attestations",
                       "block " + std::to_string(height) + ": " + signatures.message());
      }
    }
    if (progress) progress(height, stored.height);
  }
  if (replay->stateRoot() != stored.stateRoot || replay->headHash() != stored.blockHash) {
    return corrupt("check-state-root", "the replayed state root " + replay->stateRoot().hex() +
                                           " differs from the stored one " +
                                           stored.stateRoot.hex());
  }
  // Every stored state entry must be the replayed one, and none may be missing or extra.
  rocksdb::ReadOptions options;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->family(kState)));
  auto expected = replay->entries().begin();
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    ByteView key = view(it->key());
    ByteView value = view(it->value());
    if (expected == replay->entries().end() ||
        !std::equal(key.begin(), key.end(), expected->first.begin(), expected->first.end()) ||
        !std::equal(value.begin(), value.end(), expected->second.begin(), expected->second.end())) {
      return corrupt("check-state-entry",
                     "stored state entry " + core::toHex(key) + " differs from the replayed state");
    }
  }
  if (expected != replay->entries().end()) {
    return corrupt("check-state-entry",
                   "state entry " + core::toHex(expected->first) + " is missing from storage");
  }
  // The membership history certificates carry is the one the blocks made.
  auto indexed = membershipChangesBelow(stored.height + 1);
  if (!indexed) return indexed.status();
  bool same = indexed->size() == membershipChanges.size();
  for (std::size_t i = 0; same && i < indexed->size(); ++i) {
    same = (*indexed)[i].height == membershipChanges[i].height &&
           (*indexed)[i].change == membershipChanges[i].change;
  }
  if (!same) {
    return corrupt("check-membership-index",
                   "the index of membership changes differs from the changes the blocks applied");
  }
  return {};
}

}  // namespace jiancang::ledger
