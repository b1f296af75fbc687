#include <ordering/etcd_orderer.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include <nlohmann/json.hpp>

#include <chain/state_keys.h>
#include <ordering/peer_http.h>

namespace jiancang::ordering {
namespace {

using json = nlohmann::json;

constexpr std::string_view kTipKey = "tip";
constexpr std::string_view kLeaderKey = "leader";
constexpr std::string_view kBlocksDir = "blocks/";
constexpr std::string_view kAttestationsDir = "attestations/";

// tip = height (8 bytes, big-endian) ‖ block hash.
core::Bytes tipValue(std::uint64_t height, const core::BlockHash& hash) {
  core::Bytes out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(height >> (56 - 8 * i));
  out.insert(out.end(), hash.view().begin(), hash.view().end());
  return out;
}

std::optional<std::pair<std::uint64_t, core::BlockHash>> parseTip(const core::Bytes& value) {
  if (value.size() != 8 + core::BlockHash::kSize) return std::nullopt;
  std::uint64_t height = 0;
  for (int i = 0; i < 8; ++i) height = (height << 8) | value[i];
  auto hash = core::BlockHash::fromView(core::ByteView(value).subspan(8));
  if (!hash) return std::nullopt;
  return std::make_pair(height, *hash);
}

std::optional<std::uint64_t> parseHeight(std::string_view digits) {
  if (digits.size() != 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

void log(const std::string& line) {
  std::fprintf(stderr, "jiancang consortium: %s\n", line.c_str());
}

std::vector<chain::Member> membersOf(const ledger::Ledger& ledger) {
  if (auto bytes = ledger.get(chain::state_keys::consortium())) {
    if (auto record = core::decode<chain::ConsortiumRecord>(*bytes)) return record->members;
  }
  return ledger.genesis().members;
}

std::size_t quorumOf(std::size_t members) {
  return chain::ConsortiumRecord{std::vector<chain::Member>(members), 0}.quorum();
}

// Sleeps up to `duration`, waking early when `stopping` is set (checked every 50 ms).
void pause(const std::atomic<bool>& stopping, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min(duration, std::chrono::milliseconds(50)));
  }
}

}  // namespace

std::string EtcdOrderer::heightKey(std::uint64_t height) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%020" PRIu64, height);
  return digits;
}

EtcdOrderer::EtcdOrderer(ledger::Ledger& ledger, core::KeyPair member, const core::Clock& clock,
                         EtcdOrdererOptions options)
    : ledger_(ledger),
      member_(std::move(member)),
      clock_(clock),
      options_(std::move(options)),
      memberKeyHex_(member_.publicKey.hex()),
      mempool_(options_.mempool) {
  prefix_ = options_.keyPrefix.empty() ? "/jiancang/" + ledger_.parameters().chainId.hex() + "/"
                                       : options_.keyPrefix;
  if (prefix_.back() != '/') prefix_ += '/';
  stats_.height = ledger_.head().height;
  // Finality as recorded, then whatever blocks above it were stored with a quorum since.
  const std::uint64_t head = ledger_.head().height;
  memberSets_[head + 1] = membersOf(ledger_);
  finalHeight_ = std::min(ledger_.finalHeight(), head);
  advanceThroughStoredQuorums();
  finalAdvanced_ = std::chrono::steady_clock::now();
}

core::Result<std::unique_ptr<EtcdOrderer>> EtcdOrderer::start(ledger::Ledger& ledger,
                                                              core::KeyPair member,
                                                              const core::Clock& clock,
                                                              EtcdOrdererOptions options) {
  if (member.publicKey.suite() != ledger.parameters().suite) {
    return core::failedPrecondition("member-wrong-suite",
                                    "the member key's suite is not the chain's");
  }
  std::vector<chain::Member> members = membersOf(ledger);
  if (std::none_of(members.begin(), members.end(),
                   [&](const chain::Member& m) { return m.key == member.publicKey; })) {
    log("key " + member.publicKey.hex() +
        " is not a member at this node's height: following the chain without signing until a "
        "membership change adds it");
  }
  if (options.etcdEndpoints.empty()) {
    return core::invalidArgument("no-etcd", "a consortium member needs etcd endpoints");
  }
  std::unique_ptr<EtcdOrderer> orderer(
      new EtcdOrderer(ledger, std::move(member), clock, std::move(options)));
  {
    // Caught up before serving: whatever etcd (and the peers) hold beyond this ledger's head.
    EtcdClient etcd(orderer->options_.etcdEndpoints, std::chrono::seconds(5));
    auto caughtUp = orderer->catchUp(etcd);
    if (!caughtUp) return caughtUp.status();
  }
  {
    const std::uint64_t head = ledger.head().height;
    orderer->fillSignaturesFromPeers(head > 64 ? head - 63 : 1, head);
  }
  EtcdOrderer* self = orderer.get();
  self->watchThread_ = std::thread([self] { self->watchLoop(); });
  self->campaignThread_ = std::thread([self] { self->campaignLoop(); });
  self->finalityThread_ = std::thread([self] { self->finalityLoop(); });
  self->cutThread_ = std::thread([self] { self->cutLoop(); });
  self->forwardThread_ = std::thread([self] { self->forwardLoop(); });
  return orderer;
}

EtcdOrderer::~EtcdOrderer() { shutdown(); }

// ---- submitting ----------------------------------------------------------------------------

core::Result<core::TxHash> EtcdOrderer::submit(chain::SignedTransaction transaction,
                                               CommitCallback onCommit) {
  const chain::ChainParameters& chain = ledger_.parameters();
  if (Status status = chain::checkTransaction(chain, transaction); !status.isOk()) return status;
  const core::TxHash hash = chain::transactionHash(chain, transaction);
  const core::Address signer = transaction.signerAddress();

  std::unique_lock lock(mutex_);
  if (stopping_) {
    return Status(core::ErrorCode::kUnavailable, "shutting-down",
                  "the node is shutting down; submit to it again once it is back");
  }
  if (diverged_) {
    return Status(
        core::ErrorCode::kUnavailable, "diverged",
        "this member's state differs from the consortium's; it accepts no writes: " + divergence_);
  }
  if (!writable_) {
    return Status(core::ErrorCode::kUnavailable, "not-writable",
                  "the node stopped accepting writes after a storage failure; see its log");
  }
  if (!etcdError_.empty()) {
    return Status(core::ErrorCode::kUnavailable, "ordering-unavailable",
                  "the consortium's ordering service (etcd) cannot be reached or has no quorum: " +
                      etcdError_);
  }
  if (mempool_.contains(hash) || forwarded_.contains(hash)) {
    if (onCommit) waiters_.emplace(hash, std::move(onCommit));
    return hash;
  }
  if (auto committed = ledger_.transaction(hash)) {
    lock.unlock();
    auto block = ledger_.blockAt(committed->height);
    CommitNotice notice{committed->height, {}, committed->index, committed->receipt};
    if (block) notice.blockHash = chain::blockHash(chain, block->header);
    if (onCommit) onCommit(notice);
    return hash;
  }
  chain::AccountRecord account;
  if (auto bytes = ledger_.get(chain::state_keys::account(signer))) {
    if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) account = *decoded;
  }
  const std::uint64_t nonce = transaction.transaction.nonce;
  if (nonce < account.nonce) {
    return core::failedPrecondition("nonce-used", "nonce " + std::to_string(nonce) +
                                                      " was already used; the account's next is " +
                                                      std::to_string(account.nonce));
  }
  // The chain's own verdict on the committed state, when nothing of the signer's is ahead.
  if (!mempool_.hasAccount(signer) && nonce == account.nonce) {
    chain::BlockHeader next;
    next.chainId = chain.chainId;
    next.height = ledger_.head().height + 1;
    next.timestamp = std::max(clock_.now(), ledger_.head().timestamp);
    if (Status status = chain::dryRunTransaction(chain, ledger_, next, transaction);
        !status.isOk()) {
      return status;
    }
  }
  if (leading_) {
    const bool privileged = (account.roles & chain::kRoleAdmin) != 0 ||
                            ledger_.get(chain::state_keys::issuer(signer)).has_value();
    const bool wasIdle = mempool_.waiting() == 0;
    Status admitted = mempool_.admit(PendingTransaction{std::move(transaction), hash, signer},
                                     account.nonce, privileged);
    if (!admitted.isOk()) {
      if (admitted.code() == core::ErrorCode::kResourceExhausted) ++stats_.rejectedBusy;
      return admitted;
    }
    if (onCommit) waiters_.emplace(hash, std::move(onCommit));
    if (wasIdle || mempool_.waiting() >= options_.maxBlockTransactions) wake_.notify_one();
    return hash;
  }
  if (forwarded_.size() >= options_.mempool.capacity) {
    ++stats_.rejectedBusy;
    return Status(core::ErrorCode::kResourceExhausted, "mempool-full",
                  "this member is forwarding " + std::to_string(forwarded_.size()) +
                      " transactions to the leader, its limit; retry shortly");
  }
  forwarded_.emplace(hash, Forwarded{std::move(transaction),
                                     std::chrono::steady_clock::now() + options_.forwardTimeout});
  forwardQueue_.push_back(hash);
  if (onCommit) waiters_.emplace(hash, std::move(onCommit));
  forwardWake_.notify_one();
  return hash;
}

std::size_t EtcdOrderer::subscribe(BlockCallback onBlock) {
  std::lock_guard lock(subscribersMutex_);
  std::size_t id = nextSubscriber_++;
  subscribers_.emplace(id, std::move(onBlock));
  return id;
}

void EtcdOrderer::unsubscribe(std::size_t id) {
  std::lock_guard lock(subscribersMutex_);
  subscribers_.erase(id);
}

OrdererStats EtcdOrderer::stats() const {
  std::lock_guard lock(mutex_);
  OrdererStats stats = stats_;
  stats.height = ledger_.head().height;
  stats.mempoolSize = mempool_.size() + forwarded_.size();
  stats.finalHeight = finalHeight_;
  stats.writable = writable_ && !diverged_ && etcdError_.empty();
  return stats;
}

std::uint64_t EtcdOrderer::finalHeight() const {
  std::lock_guard lock(mutex_);
  return finalHeight_;
}

Status EtcdOrderer::awaitFinal(std::uint64_t height, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  if (finalWake_.wait_for(lock, timeout, [&] { return finalHeight_ >= height || stopping_; }) &&
      finalHeight_ >= height) {
    return {};
  }
  return Status(core::ErrorCode::kUnavailable, "not-final",
                "block " + std::to_string(height) + " is not signed by a quorum of members yet");
}

void EtcdOrderer::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  interruptWatch_ = true;
  wake_.notify_all();
  forwardWake_.notify_all();
  finalWake_.notify_all();
  for (std::thread* thread :
       {&cutThread_, &forwardThread_, &campaignThread_, &finalityThread_, &watchThread_}) {
    if (thread->joinable()) thread->join();
  }
  // Whoever still waits is told its transaction did not commit here.
  std::multimap<core::TxHash, CommitCallback> waiters;
  {
    std::lock_guard lock(mutex_);
    waiters.swap(waiters_);
  }
  for (auto& [hash, callback] : waiters) {
    if (callback) callback(std::nullopt);
  }
}

// ---- following the chain in etcd ------------------------------------------------------------

core::Result<std::int64_t> EtcdOrderer::catchUp(EtcdClient& etcd) {
  auto tip = etcd.range(key(kTipKey));
  if (!tip) return tip.status();
  const std::int64_t revision = tip->revision;
  Tip seen;
  if (!tip->kvs.empty()) {
    auto parsed = parseTip(tip->kvs[0].value);
    if (!parsed)
      return Status(core::ErrorCode::kCorruption, "etcd-bad-tip", "etcd's tip is garbled");
    seen = Tip{parsed->first, parsed->second, tip->kvs[0].modRevision};
  }
  {
    std::lock_guard lock(mutex_);
    if (seen.modRevision >= tip_.modRevision) tip_ = seen;
  }
  if (auto leader = etcd.range(key(kLeaderKey)); leader && !leader->kvs.empty()) {
    json value = json::parse(leader->kvs[0].value, nullptr, false);
    std::lock_guard lock(mutex_);
    if (value.is_object()) {
      leaderName_ = value.value("name", std::string());
      leaderUrl_ = value.value("url", std::string());
    }
  }
  const std::uint64_t startHeight = ledger_.head().height;
  while (ledger_.head().height < seen.height && !stopping_) {
    const std::uint64_t next = ledger_.head().height + 1;
    auto blocks = etcd.range(key(std::string(kBlocksDir) + heightKey(next)),
                             etcdPrefixEnd(key(kBlocksDir)), 16);
    if (!blocks) return blocks.status();
    std::optional<std::uint64_t> first;
    if (!blocks->kvs.empty()) {
      first = parseHeight(std::string_view{blocks->kvs[0].key}.substr(key(kBlocksDir).size()));
    }
    if (!first || *first != next) {
      // Compacted out of etcd: the other members still have them.
      const std::uint64_t upTo = first ? *first - 1 : seen.height;
      if (Status fetched = fetchFromPeers(upTo); !fetched.isOk()) return fetched;
      continue;
    }
    for (const EtcdKeyValue& kv : blocks->kvs) {
      auto block = core::decode<chain::Block>(kv.value);
      if (!block) {
        return Status(core::ErrorCode::kCorruption, "etcd-bad-block",
                      "etcd's " + kv.key + " does not decode: " + block.status().message());
      }
      if (Status applied = applyReceived(*block); !applied.isOk()) return applied;
    }
    if (ledger_.head().height - startHeight >= 1000 &&
        (ledger_.head().height - startHeight) % 1000 < blocks->kvs.size()) {
      log("caught up to block " + std::to_string(ledger_.head().height) + " of " +
          std::to_string(seen.height));
    }
  }
  // The signatures gathered on recent blocks, for finality.
  const std::uint64_t head = ledger_.head().height;
  const std::uint64_t from =
      head > options_.blocksKeptInEtcd ? head - options_.blocksKeptInEtcd : 1;
  auto signatures = etcd.range(key(std::string(kAttestationsDir) + heightKey(from)),
                               etcdPrefixEnd(key(kAttestationsDir)));
  if (!signatures) return signatures.status();
  {
    std::lock_guard lock(mutex_);
    for (const EtcdKeyValue& kv : signatures->kvs) {
      if (auto attestation = core::decode<chain::Attestation>(kv.value)) {
        recordAttestation(*attestation);
      }
    }
  }
  return std::max(revision, std::max(tip->revision, signatures->revision)) + 1;
}

void EtcdOrderer::watchLoop() {
  EtcdClient etcd(options_.etcdEndpoints, std::chrono::seconds(5));
  while (!stopping_) {
    bool diverged = false;
    {
      std::lock_guard lock(mutex_);
      diverged = diverged_;
    }
    if (diverged) {  // follows nothing more: its state cannot be trusted
      pause(stopping_, std::chrono::milliseconds(500));
      continue;
    }
    auto from = catchUp(etcd);
    if (!from) {
      {
        std::lock_guard lock(mutex_);
        etcdError_ = from.status().message();
      }
      pause(stopping_, std::chrono::milliseconds(300));
      continue;
    }
    bool resync = false;
    Status watched = etcd.watch(
        prefix_, etcdPrefixEnd(prefix_), *from,
        [&](const EtcdWatchBatch& batch) {
          for (const EtcdWatchEvent& event : batch.events) {
            const std::string_view name = std::string_view{event.kv.key}.substr(prefix_.size());
            if (name.starts_with(kBlocksDir) && !event.deleted) {
              auto block = core::decode<chain::Block>(event.kv.value);
              if (!block) {
                diverge("etcd's " + event.kv.key + " does not decode as a block");
                return false;
              }
              Status applied = applyReceived(*block);
              if (applied.reason() == "block-gap") {
                resync = true;  // read what is missing, then watch again
                return false;
              }
              if (!applied.isOk()) return false;
            } else {
              handleEvent(event);
            }
          }
          return !stopping_;
        },
        interruptWatch_);
    if (stopping_) break;
    if (interruptWatch_.exchange(false)) resync = true;  // the watchdog: read etcd again
    if (!watched.isOk() && !resync) {
      std::lock_guard lock(mutex_);
      if (watched.reason() != "etcd-compacted") etcdError_ = watched.message();
    }
    pause(stopping_, std::chrono::milliseconds(resync ? 0 : 100));
  }
}

void EtcdOrderer::handleEvent(const EtcdWatchEvent& event) {
  const std::string_view name = std::string_view{event.kv.key}.substr(prefix_.size());
  if (name == kTipKey && !event.deleted) {
    auto parsed = parseTip(event.kv.value);
    if (!parsed) return;
    std::lock_guard lock(mutex_);
    if (event.kv.modRevision > tip_.modRevision) {
      tip_ = Tip{parsed->first, parsed->second, event.kv.modRevision};
      wake_.notify_all();
    }
  } else if (name == kLeaderKey) {
    std::lock_guard lock(mutex_);
    std::string previous = leaderUrl_;
    if (event.deleted) {
      leaderName_.clear();
      leaderUrl_.clear();
    } else {
      json value = json::parse(event.kv.value, nullptr, false);
      if (!value.is_object()) return;
      leaderName_ = value.value("name", std::string());
      leaderUrl_ = value.value("url", std::string());
    }
    if (leaderUrl_ != previous) {
      // A new leader: whatever was forwarded to the old one goes to it as well (it dedupes).
      forwardQueue_.clear();
      for (const auto& [hash, forwarded] : forwarded_) forwardQueue_.push_back(hash);
      forwardWake_.notify_all();
    }
  } else if (name.starts_with(kAttestationsDir) && !event.deleted) {
    auto attestation = core::decode<chain::Attestation>(event.kv.value);
    if (!attestation) return;
    std::lock_guard lock(mutex_);
    recordAttestation(*attestation);
  }
}

Status EtcdOrderer::applyReceived(const chain::Block& block, FinalBlock* final) {
  const chain::ChainParameters& chain = ledger_.parameters();
  const std::uint64_t height = block.header.height;
  std::unique_lock ledgerLock(ledgerMutex_);
  ledger::Head head = ledger_.head();
  const core::BlockHash hash = chain::blockHash(chain, block.header);
  if (height <= head.height) {
    auto stored = ledger_.blockAt(height);
    if (stored && chain::blockHash(chain, stored->header) != hash) {
      diverge("block " + std::to_string(height) + " in etcd has hash " + hash.hex() +
              ", this member committed " + chain::blockHash(chain, stored->header).hex());
    }
    return {};
  }
  if (height != head.height + 1) {
    return Status(
        core::ErrorCode::kFailedPrecondition, "block-gap",
        "block " + std::to_string(height) + " arrived at height " + std::to_string(head.height));
  }
  {
    std::lock_guard lock(mutex_);
    if (diverged_ || !writable_) {
      return Status(core::ErrorCode::kUnavailable, "diverged", "this member applies no blocks");
    }
  }
  if (block.header.chainId != chain.chainId || block.header.previousHash != head.blockHash) {
    diverge("block " + std::to_string(height) + " links to " + block.header.previousHash.hex() +
            ", this member's block " + std::to_string(head.height) + " is " + head.blockHash.hex());
    return Status(core::ErrorCode::kCorruption, "diverged", "the block does not link here");
  }
  if (block.header.previousStateRoot != head.stateRoot) {
    diverge("block " + std::to_string(height) + " was built on state root " +
            block.header.previousStateRoot.hex() + "; this member's state root after block " +
            std::to_string(head.height) + " is " + head.stateRoot.hex());
    return Status(core::ErrorCode::kCorruption, "diverged", "the block was built on another state");
  }
  // Every member checks every transaction, signatures included (a final block's caller
  // applied it on this same head).
  core::Result<chain::BlockOutcome> outcome =
      final != nullptr ? core::Result<chain::BlockOutcome>(std::move(final->outcome))
                       : chain::applyBlock(chain, ledger_, ledger_, head.stateRoot, block,
                                           chain::ApplyOptions{true, true});
  if (!outcome) {
    diverge("block " + std::to_string(height) +
            " does not apply here: " + outcome.status().message());
    return outcome.status();
  }
  bool signing = false;
  {
    std::lock_guard lock(mutex_);
    signing = signs(height);
  }
  chain::Attestation ours =
      chain::signAttestation(chain, height, outcome->blockHash, outcome->stateRoot, member_);
  std::vector<chain::Attestation> stored;
  if (signing) stored.push_back(ours);
  if (final != nullptr) {
    for (const chain::Attestation& signature : final->signatures) {
      if (signature.member != member_.publicKey) stored.push_back(signature);
    }
  }
  auto committed = ledger_.commit(block, *outcome, stored, final == nullptr);
  if (!committed) {
    log("block " + std::to_string(height) +
        " could not be stored: " + committed.status().message());
    std::lock_guard lock(mutex_);
    writable_ = false;
    return committed.status();
  }
  noteMembership(height);
  ledgerLock.unlock();
  if (final != nullptr) {
    // Final already: its signatures are stored with it, and finality moves without a write of
    // its own (fetchFromPeers records the final height, synced, once it is done).
    std::lock_guard lock(mutex_);
    for (const chain::Attestation& signature : final->signatures) {
      std::uint64_t& highest = attestedHeights_[signature.member.hex()];
      highest = std::max(highest, height);
    }
    advanceThroughStoredQuorums();
  }
  afterCommit(*committed, block, signing && final == nullptr ? &ours : nullptr);
  // Old blocks too: they may still wait for this member's signature.
  if (signing && final == nullptr) publishAttestation(ours);
  return {};
}

Status EtcdOrderer::fetchFromPeers(std::uint64_t upTo) {
  if (options_.peerUrls.empty()) {
    return Status(core::ErrorCode::kUnavailable, "no-peers",
                  "etcd no longer holds block " + std::to_string(ledger_.head().height + 1) +
                      " and no peer is configured to fetch it from");
  }
  std::string lastError;
  while (ledger_.head().height < upTo && !stopping_) {
    const std::uint64_t height = ledger_.head().height + 1;
    bool fetched = false;
    for (const std::string& peer : options_.peerUrls) {
      auto answer = peerRequest(peer + "/api/v1/blocks/" + std::to_string(height) + "/raw", {},
                                "application/json", std::chrono::seconds(10));
      if (!answer || answer->status != 200) {
        lastError = peer + ": " +
                    (answer ? "HTTP " + std::to_string(answer->status) : answer.status().message());
        continue;
      }
      json body = json::parse(answer->body, nullptr, false);
      auto blockBytes = body.is_object() && body["block"].is_string()
                            ? core::fromHex(body["block"].get<std::string>())
                            : core::Result<core::Bytes>(core::invalidArgument("x", "no block"));
      if (!blockBytes) {
        lastError = peer + ": the answer holds no block";
        continue;
      }
      auto block = core::decode<chain::Block>(*blockBytes);
      if (!block || block->header.height != height) {
        lastError = peer + ": the block does not decode or is another height";
        continue;
      }
      std::vector<chain::Attestation> signatures;
      if (body["attestations"].is_array()) {
        for (const json& item : body["attestations"]) {
          if (!item.is_string()) continue;
          auto bytes = core::fromHex(item.get<std::string>());
          if (!bytes) continue;
          if (auto attestation = core::decode<chain::Attestation>(*bytes)) {
            signatures.push_back(*attestation);
          }
        }
      }
      // The hash chain is checked by applying it on this head; the result must be what a
      // quorum of members signed, or the block is not taken.
      const chain::ChainParameters& chain = ledger_.parameters();
      auto probe = chain::applyBlock(chain, ledger_, ledger_, ledger_.head().stateRoot, *block,
                                     chain::ApplyOptions{true, true});
      std::vector<chain::Member> members = membersOf(ledger_);
      std::vector<chain::Attestation> matching;
      for (const chain::Attestation& a : signatures) {
        if (probe && a.height == height && a.blockHash == probe->blockHash &&
            a.stateRoot == probe->stateRoot) {
          matching.push_back(a);
        }
      }
      if (!probe || !chain::verifyAttestations(chain, members, quorumOf(members.size()), height,
                                               probe->blockHash, probe->stateRoot, matching)
                         .isOk()) {
        lastError = peer + ": block " + std::to_string(height) +
                    " is not signed by a quorum of members for the state it gives here";
        continue;
      }
      FinalBlock final{std::move(probe).value(), std::move(matching)};
      if (Status applied = applyReceived(*block, &final); !applied.isOk()) return applied;
      {
        std::lock_guard lock(mutex_);
        ++fetchedFromPeers_;
      }
      fetched = true;
      break;
    }
    if (!fetched) {
      return Status(core::ErrorCode::kUnavailable, "catch-up-failed",
                    "no peer gave block " + std::to_string(height) + " (last: " + lastError + ")");
    }
    if (height % 1000 == 0) log("fetched block " + std::to_string(height) + " from peers");
  }
  // The fetched blocks made durable, with the final height they reached.
  std::uint64_t final = 0;
  {
    std::lock_guard lock(mutex_);
    final = finalHeight_;
  }
  if (final > 0) {
    if (Status stored = ledger_.addAttestations(final, {}, final); !stored.isOk()) return stored;
  }
  return ledger_.sync();
}

// ---- finality ------------------------------------------------------------------------------

void EtcdOrderer::fillSignaturesFromPeers(std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t height = std::max<std::uint64_t>(from, 1); height <= to && !stopping_;
       ++height) {
    std::size_t quorum = 0;
    {
      std::lock_guard lock(mutex_);
      quorum = quorumOf(signersOf(height).size());
    }
    if (ledger_.attestationsAt(height).size() >= quorum) continue;
    for (const std::string& peer : options_.peerUrls) {
      auto answer = peerRequest(peer + "/api/v1/blocks/" + std::to_string(height) + "/raw", {},
                                "application/json", std::chrono::seconds(2));
      if (!answer || answer->status != 200) continue;
      json body = json::parse(answer->body, nullptr, false);
      if (!body.is_object() || !body["attestations"].is_array()) continue;
      std::lock_guard lock(mutex_);
      for (const json& item : body["attestations"]) {
        if (!item.is_string()) continue;
        auto bytes = core::fromHex(item.get<std::string>());
        if (!bytes) continue;
        // Each is checked (a member's, a good signature) and counted only if it agrees here.
        if (auto attestation = core::decode<chain::Attestation>(*bytes)) {
          recordAttestation(*attestation);
        }
      }
      if (ledger_.attestationsAt(height).size() >= quorum) break;
    }
  }
}

void EtcdOrderer::finalityLoop() {
  EtcdClient etcd(options_.etcdEndpoints, std::chrono::milliseconds(1500));
  std::uint64_t lastHead = ledger_.head().height;
  auto lastMoved = std::chrono::steady_clock::now();
  while (!stopping_) {
    pause(stopping_, std::chrono::milliseconds(500));
    repairFinality(etcd);
    checkWatch(etcd, lastHead, lastMoved);
  }
}

void EtcdOrderer::checkWatch(EtcdClient& etcd, std::uint64_t& lastHead,
                             std::chrono::steady_clock::time_point& lastMoved) {
  const std::uint64_t head = ledger_.head().height;
  const auto now = std::chrono::steady_clock::now();
  if (head != lastHead) {
    lastHead = head;
    lastMoved = now;
    return;
  }
  if (now - lastMoved < std::chrono::seconds(2)) return;
  {
    std::lock_guard lock(mutex_);
    if (diverged_ || !writable_) return;
  }
  auto tip = etcd.range(key(kTipKey));
  if (!tip || tip->kvs.empty()) return;
  auto parsed = parseTip(tip->kvs[0].value);
  if (!parsed || parsed->first <= head) return;
  log("etcd's tip is block " + std::to_string(parsed->first) + " but this member has stayed at " +
      std::to_string(head) + " for 2 s: its watch delivers nothing, so it reads etcd again");
  lastMoved = now;
  interruptWatch_ = true;
}

void EtcdOrderer::repairFinality(EtcdClient& etcd) {
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  {
    std::lock_guard lock(mutex_);
    advanceThroughStoredQuorums();  // blocks fetched final from peers after a repaired one
    const std::uint64_t head = ledger_.head().height;
    // Signatures normally follow a block within milliseconds; a second without progress
    // means one was lost.
    if (diverged_ || head <= finalHeight_ ||
        std::chrono::steady_clock::now() - finalAdvanced_ < std::chrono::seconds(1)) {
      return;
    }
    from = finalHeight_ + 1;
    to = std::min(head, finalHeight_ + 64);
  }
  auto stored = etcd.range(key(std::string(kAttestationsDir) + heightKey(from)),
                           key(std::string(kAttestationsDir) + heightKey(to + 1)));
  if (!stored) return;  // etcd is down: nothing can be final anyway
  std::set<std::uint64_t> signedHere;
  {
    std::lock_guard lock(mutex_);
    for (const EtcdKeyValue& kv : stored->kvs) {
      if (auto attestation = core::decode<chain::Attestation>(kv.value)) {
        if (attestation->member == member_.publicKey) signedHere.insert(attestation->height);
        recordAttestation(*attestation);
      }
    }
  }
  std::size_t republished = 0;
  for (std::uint64_t height = from; height <= to && !stopping_; ++height) {
    if (signedHere.contains(height)) continue;
    for (const chain::Attestation& attestation : ledger_.attestationsAt(height)) {
      if (attestation.member == member_.publicKey) {
        publishAttestation(attestation);
        ++republished;
      }
    }
  }
  if (republished > 0) {
    log("published again this member's signatures on " + std::to_string(republished) +
        " blocks from height " + std::to_string(from) + " that etcd did not hold");
  }
  bool stuck = false;
  {
    std::lock_guard lock(mutex_);
    stuck = finalHeight_ < from;
  }
  // Compacted out of etcd before this member saw them: the other members keep them.
  if (stuck) fillSignaturesFromPeers(from, to);
  std::lock_guard lock(mutex_);
  finalAdvanced_ = std::chrono::steady_clock::now();  // at most one repair a second
}

void EtcdOrderer::publishAttestation(const chain::Attestation& attestation) {
  thread_local std::unique_ptr<EtcdClient> etcd;
  if (!etcd) etcd = std::make_unique<EtcdClient>(options_.etcdEndpoints, std::chrono::seconds(5));
  auto put = etcd->put(EtcdPut{
      key(std::string(kAttestationsDir) + heightKey(attestation.height) + "/" + memberKeyHex_),
      core::encode(attestation), 0});
  if (!put) {
    std::lock_guard lock(mutex_);
    etcdError_ = put.status().message();
    unpublished_.push_back(attestation);  // sent again once etcd answers (campaignLoop)
  }
}

void EtcdOrderer::recordAttestation(const chain::Attestation& attestation) {
  const std::string who = attestation.member.hex();
  const std::vector<chain::Member>& members = signersOf(attestation.height);
  if (!chain::verifyAttestations(ledger_.parameters(), members, 1, attestation.height,
                                 attestation.blockHash, attestation.stateRoot, {attestation})
           .isOk()) {
    return;  // not a member's, or a bad signature: not counted
  }
  std::uint64_t& highest = attestedHeights_[who];
  highest = std::max(highest, attestation.height);
  if (attestation.height + 64 < finalHeight_) return;  // long final
  attestations_[attestation.height][who] = attestation;
  evaluateFinality(attestation.height);
}

void EtcdOrderer::evaluateFinality(std::uint64_t height) {
  auto found = attestations_.find(height);
  const ledger::Head head = ledger_.head();
  if (found == attestations_.end() || height > head.height) return;
  // What this node computed for the block: kept from this run, else from its own stored
  // signature (applied in an earlier run), else from the ledger.
  std::optional<std::pair<core::BlockHash, chain::Hash256>> here;
  if (auto computed = applied_.find(height); computed != applied_.end()) here = computed->second;
  for (const chain::Attestation& stored :
       here ? std::vector<chain::Attestation>{} : ledger_.attestationsAt(height)) {
    if (stored.member == member_.publicKey) here = {stored.blockHash, stored.stateRoot};
  }
  if (!here) {
    auto block = ledger_.blockAt(height);
    auto next = height == head.height ? std::nullopt : ledger_.blockAt(height + 1);
    if (!block || (height != head.height && !next)) return;  // not applied here yet
    here = {chain::blockHash(ledger_.parameters(), block->header),
            height == head.height ? head.stateRoot : next->header.previousStateRoot};
  }
  const std::size_t quorum = quorumOf(signersOf(height).size());
  std::vector<chain::Attestation> agreeing;
  std::map<std::pair<core::BlockHash, chain::Hash256>, std::size_t> others;
  for (const auto& [who, attestation] : found->second) {
    if (attestation.blockHash == here->first && attestation.stateRoot == here->second) {
      agreeing.push_back(attestation);
    } else {
      ++others[{attestation.blockHash, attestation.stateRoot}];
    }
  }
  for (const auto& [signed_, count] : others) {
    if (count >= quorum) {
      markDiverged("a quorum of members signed state root " + signed_.second.hex() + " at height " +
                   std::to_string(height) + "; this member has " + here->second.hex());
      return;
    }
  }
  if (agreeing.size() < quorum) return;
  // Final only up to the first block still short of a quorum: a certificate for any block up to
  // the final height must find the signatures stored with it.
  std::uint64_t final = finalHeight_;
  if (height > final) sealed_.insert(height);
  for (auto it = sealed_.begin(); it != sealed_.end() && *it <= final + 1; ++it) {
    final = std::max(final, *it);
  }
  if (Status stored = ledger_.addAttestations(height, agreeing, final > finalHeight_ ? final : 0);
      !stored.isOk()) {
    log("attestations of block " + std::to_string(height) + ": " + stored.message());
    return;
  }
  sealed_.erase(sealed_.begin(), sealed_.upper_bound(final));
  if (final > finalHeight_) {
    finalHeight_ = final;
    finalAdvanced_ = std::chrono::steady_clock::now();
    finalWake_.notify_all();
  }
  // Keep a window of final heights for late signatures; forget older ones.
  while (!attestations_.empty() && attestations_.begin()->first + 64 < finalHeight_) {
    attestations_.erase(attestations_.begin());
  }
  while (!applied_.empty() && applied_.begin()->first + 64 < finalHeight_) {
    applied_.erase(applied_.begin());
  }
}

void EtcdOrderer::advanceThroughStoredQuorums() {
  const std::uint64_t head = ledger_.head().height;
  std::uint64_t final = finalHeight_;
  while (final < head &&
         ledger_.attestationsAt(final + 1).size() >= quorumOf(signersOf(final + 1).size())) {
    ++final;
  }
  if (final <= finalHeight_) return;
  finalHeight_ = final;
  finalAdvanced_ = std::chrono::steady_clock::now();
  sealed_.erase(sealed_.begin(), sealed_.upper_bound(final));
  finalWake_.notify_all();
}

const std::vector<chain::Member>& EtcdOrderer::signersOf(std::uint64_t height) const {
  auto after = memberSets_.upper_bound(height);
  return after == memberSets_.begin() ? after->second : std::prev(after)->second;
}

bool EtcdOrderer::signs(std::uint64_t height) const {
  const std::vector<chain::Member>& members = signersOf(height);
  return std::any_of(members.begin(), members.end(),
                     [&](const chain::Member& m) { return m.key == member_.publicKey; });
}

void EtcdOrderer::noteMembership(std::uint64_t height) {
  std::vector<chain::Member> members = membersOf(ledger_);
  std::lock_guard lock(mutex_);
  const bool before = signs(height + 1);
  if (members == memberSets_.rbegin()->second) return;
  memberSets_[height + 1] = members;
  const bool after = signs(height + 1);
  log("block " + std::to_string(height) +
      " changed the membership: " + std::to_string(members.size()) + " members from block " +
      std::to_string(height + 1) + ", quorum " + std::to_string(quorumOf(members.size())) +
      (before == after ? std::string()
       : after         ? "; this node is a member now and signs from that block"
                       : "; this node is no longer a member: it follows without signing"));
  // Keep the sets a recent block can still be evaluated against.
  while (memberSets_.size() > 2 && std::next(memberSets_.begin())->first + 64 < finalHeight_) {
    memberSets_.erase(memberSets_.begin());
  }
  wake_.notify_all();
}

void EtcdOrderer::diverge(const std::string& what) {
  std::lock_guard lock(mutex_);
  markDiverged(what);
}

void EtcdOrderer::markDiverged(const std::string& what) {
  if (diverged_) return;
  diverged_ = true;
  divergence_ = what;
  log("DIVERGED, accepting no writes and signing nothing more: " + what);
  wake_.notify_all();
}

// ---- after a block is committed here ------------------------------------------------------

void EtcdOrderer::afterCommit(const ledger::CommittedBlock& committed, const chain::Block& block,
                              const chain::Attestation* ours) {
  std::vector<std::pair<CommitCallback, CommitNotice>> calls;
  {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < committed.transactions.size(); ++i) {
      const core::TxHash& hash = committed.transactions[i];
      mempool_.dropCommitted(hash);
      forwarded_.erase(hash);
      auto [first, last] = waiters_.equal_range(hash);
      for (auto it = first; it != last; ++it) {
        calls.emplace_back(std::move(it->second),
                           CommitNotice{committed.head.height, committed.head.blockHash,
                                        static_cast<std::uint32_t>(i), committed.receipts[i]});
      }
      waiters_.erase(first, last);
    }
    ++stats_.blocksCommitted;
    stats_.transactionsCommitted += committed.transactionCount;
    stats_.height = committed.head.height;
    applied_[committed.head.height] = {committed.head.blockHash, committed.head.stateRoot};
    if (ours != nullptr) recordAttestation(*ours);
    // Attestations that arrived before the block did.
    evaluateFinality(block.header.height);
    wake_.notify_all();
  }
  for (auto& [callback, notice] : calls) {
    if (callback) callback(notice);
  }
  std::lock_guard lock(subscribersMutex_);
  for (auto& [id, subscriber] : subscribers_) subscriber(committed);
}

// ---- leading -------------------------------------------------------------------------------

void EtcdOrderer::campaignLoop() {
  EtcdClient etcd(options_.etcdEndpoints, std::chrono::milliseconds(1500));
  const auto tick =
      std::chrono::milliseconds(std::max<std::int64_t>(100, options_.leaseTtl.count() * 1000 / 4));
  auto lastRenewed = std::chrono::steady_clock::now();
  auto lastCompacted = std::chrono::steady_clock::now();
  while (!stopping_) {
    bool eligible = false;
    {
      std::lock_guard lock(mutex_);
      eligible = signs(ledger_.head().height + 1);
    }
    if (!eligible) {
      // Not a member (yet, or any more): it neither leads nor campaigns.
      if (lease_ != 0) {
        stepDown();
        (void)etcd.leaseRevoke(lease_);
        lease_ = 0;
      }
      pause(stopping_, tick);
      continue;
    }
    Status failure;
    if (lease_ == 0) {
      auto granted = etcd.leaseGrant(options_.leaseTtl);
      if (granted) {
        lease_ = *granted;
        lastRenewed = std::chrono::steady_clock::now();
      } else {
        failure = granted.status();
      }
    } else {
      auto left = etcd.leaseKeepAlive(lease_);
      if (left && *left > 0) {
        lastRenewed = std::chrono::steady_clock::now();
      } else if (left || left.status().reason() == "etcd-lease-not-found") {
        lease_ = 0;  // expired: whatever it held is gone
        stepDown();
      } else {
        failure = left.status();
      }
    }
    if (!failure.isOk() && std::chrono::steady_clock::now() - lastRenewed > options_.leaseTtl) {
      stepDown();  // the lease has surely run out by now
      lease_ = 0;
    }
    bool diverged = false;
    bool leading = false;
    bool nobodyLeads = false;
    std::vector<chain::Attestation> unpublished;
    {
      std::lock_guard lock(mutex_);
      if (failure.isOk()) {
        etcdError_.clear();
        unpublished.swap(unpublished_);
      } else {
        etcdError_ = failure.message();
      }
      diverged = diverged_ || !writable_;
      leading = leading_;
      nobodyLeads = leaderName_.empty();
    }
    for (const chain::Attestation& attestation : unpublished) publishAttestation(attestation);
    if (diverged && lease_ != 0) {
      // A member that cannot be trusted to write lets another lead.
      stepDown();
      (void)etcd.leaseRevoke(lease_);
      lease_ = 0;
    } else if (failure.isOk() && lease_ != 0 && !leading && nobodyLeads) {
      json value{{"name", options_.memberName}, {"url", options_.advertiseUrl}};
      std::string text = value.dump();
      auto won =
          etcd.txn({EtcdCompare{key(kLeaderKey), EtcdCompare::Target::kCreateRevision, 0, {}}},
                   {EtcdPut{key(kLeaderKey), core::Bytes(text.begin(), text.end()), lease_}});
      if (won && won->succeeded) {
        std::vector<std::pair<CommitCallback, std::optional<CommitNotice>>> refused;
        {
          std::lock_guard lock(mutex_);
          leading_ = true;
          leaderName_ = options_.memberName;
          leaderUrl_ = options_.advertiseUrl;
          // What this member was forwarding is now its own to order.
          for (auto& [hash, forwarded] : forwarded_) {
            const core::Address signer = forwarded.transaction.signerAddress();
            chain::AccountRecord account;
            if (auto bytes = ledger_.get(chain::state_keys::account(signer))) {
              if (auto decoded = core::decode<chain::AccountRecord>(*bytes)) account = *decoded;
            }
            Status admitted = mempool_.admit(
                PendingTransaction{forwarded.transaction, hash, signer}, account.nonce, true);
            if (!admitted.isOk()) {
              auto [first, last] = waiters_.equal_range(hash);
              for (auto it = first; it != last; ++it)
                refused.emplace_back(std::move(it->second), std::nullopt);
              waiters_.erase(first, last);
            }
          }
          forwarded_.clear();
          forwardQueue_.clear();
          wake_.notify_all();
        }
        for (auto& [callback, notice] : refused) {
          if (callback) callback(notice);
        }
        log(options_.memberName + " leads from height " + std::to_string(ledger_.head().height));
      }
    }
    if (leading && std::chrono::steady_clock::now() - lastCompacted > std::chrono::seconds(5)) {
      lastCompacted = std::chrono::steady_clock::now();
      std::uint64_t final = finalHeight();
      if (final > options_.blocksKeptInEtcd) {
        const std::uint64_t below = final - options_.blocksKeptInEtcd;
        auto deleted =
            etcd.deleteRange(key(kBlocksDir), key(std::string(kBlocksDir) + heightKey(below)));
        auto deletedSignatures = etcd.deleteRange(
            key(kAttestationsDir), key(std::string(kAttestationsDir) + heightKey(below)));
        if (deleted && deletedSignatures) (void)etcd.compact(*deletedSignatures);
      }
    }
    pause(stopping_, tick);
  }
  if (lease_ != 0) {
    {
      std::lock_guard lock(mutex_);
      leading_ = false;
    }
    // Hands over at once rather than after the lease runs out.
    (void)etcd.leaseRevoke(lease_);
  }
}

void EtcdOrderer::stepDown() {
  std::lock_guard lock(mutex_);
  if (!leading_) return;
  leading_ = false;
  if (leaderName_ == options_.memberName) {
    leaderName_.clear();
    leaderUrl_.clear();
  }
  // Queued transactions go to whoever leads next.
  for (PendingTransaction& pending : mempool_.drain()) {
    forwarded_.emplace(pending.hash,
                       Forwarded{std::move(pending.transaction),
                                 std::chrono::steady_clock::now() + options_.forwardTimeout});
    forwardQueue_.push_back(pending.hash);
  }
  log(options_.memberName + " no longer leads");
  forwardWake_.notify_all();
}

void EtcdOrderer::cutLoop() {
  for (;;) {
    std::vector<PendingTransaction> taken;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_ || (leading_ && !diverged_ && writable_ && mempool_.waiting() > 0 &&
                             ledger_.head().height == tip_.height);
      });
      if (stopping_) break;
      wake_.wait_until(lock, lastCut_ + options_.blockInterval, [&] {
        return stopping_ || mempool_.waiting() >= options_.maxBlockTransactions;
      });
      lastCut_ = std::chrono::steady_clock::now();
      taken = mempool_.take(options_.maxBlockTransactions);
    }
    leadOnce(std::move(taken));
  }
}

void EtcdOrderer::leadOnce(std::vector<PendingTransaction> taken) {
  const chain::ChainParameters& chain = ledger_.parameters();
  thread_local std::unique_ptr<EtcdClient> etcd;
  if (!etcd) etcd = std::make_unique<EtcdClient>(options_.etcdEndpoints, std::chrono::seconds(3));
  auto giveBack = [&](std::vector<PendingTransaction> back) {
    std::lock_guard lock(mutex_);
    mempool_.putBack(std::move(back));
  };

  std::unique_lock ledgerLock(ledgerMutex_);
  ledger::Head head = ledger_.head();
  Tip tip;
  {
    std::lock_guard lock(mutex_);
    tip = tip_;
    if (!leading_ || diverged_ || tip.height != head.height) {
      mempool_.putBack(std::move(taken));
      return;
    }
  }
  // Anything committed meanwhile (through another leader) is done, not ordered again.
  std::vector<PendingTransaction> done;
  std::vector<PendingTransaction> included;
  for (PendingTransaction& pending : taken) {
    (ledger_.transaction(pending.hash) ? done : included).push_back(std::move(pending));
  }
  if (!done.empty()) {
    std::lock_guard lock(mutex_);
    mempool_.completed(done);
  }
  std::vector<PendingTransaction> overflow;
  chain::Block block;
  core::Bytes encoded;
  for (;;) {
    std::vector<chain::SignedTransaction> transactions;
    transactions.reserve(included.size());
    for (const PendingTransaction& pending : included) transactions.push_back(pending.transaction);
    block = chain::makeBlock(chain, head.height + 1, head.blockHash, head.stateRoot,
                             std::max(clock_.now(), head.timestamp), std::move(transactions));
    encoded = core::encode(block);
    if (encoded.size() <= options_.maxBlockBytes || included.size() <= 1) break;
    // Too big for one etcd request: the second half waits for the next block.
    auto half = included.begin() + static_cast<std::ptrdiff_t>(included.size() / 2);
    overflow.insert(overflow.begin(), std::make_move_iterator(half),
                    std::make_move_iterator(included.end()));
    included.erase(half, included.end());
  }
  if (included.empty()) return;
  auto outcome = chain::applyBlock(chain, ledger_, ledger_, head.stateRoot, block,
                                   chain::ApplyOptions{false, true});
  if (!outcome) {
    log("block " + std::to_string(block.header.height) +
        " could not be applied: " + outcome.status().message());
    std::lock_guard lock(mutex_);
    writable_ = false;
    mempool_.putBack(std::move(included));
    return;
  }
  // Appended only if nobody appended since the tip this block is built on.
  auto appended = etcd->txn(
      {EtcdCompare{key(kTipKey), EtcdCompare::Target::kModRevision, tip.modRevision, {}}},
      {EtcdPut{key(kTipKey), tipValue(block.header.height, outcome->blockHash), 0},
       EtcdPut{key(std::string(kBlocksDir) + heightKey(block.header.height)), encoded, 0}});
  if (!appended || !appended->succeeded) {
    {
      std::lock_guard lock(mutex_);
      if (!appended) etcdError_ = appended.status().message();
    }
    // Unknown or lost: if it did land, the watch applies it and the queue forgets it.
    ledgerLock.unlock();
    giveBack(std::move(included));
    giveBack(std::move(overflow));
    // Unreachable: wait a little. Beaten to the height: the watch brings the other block soon
    // (checkWatch reads etcd again if it does not), so do not ask again at once.
    pause(stopping_, std::chrono::milliseconds(appended ? 10 : 100));
    return;
  }
  bool signing = false;
  {
    std::lock_guard lock(mutex_);
    signing = signs(block.header.height);
  }
  chain::Attestation ours = chain::signAttestation(chain, block.header.height, outcome->blockHash,
                                                   outcome->stateRoot, member_);
  auto committed = ledger_.commit(block, *outcome,
                                  signing ? std::vector{ours} : std::vector<chain::Attestation>{});
  if (!committed) {
    log("block " + std::to_string(block.header.height) +
        " could not be stored: " + committed.status().message());
    std::lock_guard lock(mutex_);
    writable_ = false;
    mempool_.putBack(std::move(included));
    return;
  }
  noteMembership(block.header.height);
  {
    std::lock_guard lock(mutex_);
    if (appended->revision > tip_.modRevision) {
      tip_ = Tip{block.header.height, outcome->blockHash, appended->revision};
    }
    mempool_.completed(included);
    if (!overflow.empty()) mempool_.putBack(std::move(overflow));
  }
  ledgerLock.unlock();
  afterCommit(*committed, block, signing ? &ours : nullptr);
  if (signing) publishAttestation(ours);
}

// ---- forwarding to the leader --------------------------------------------------------------

void EtcdOrderer::forwardLoop() {
  while (!stopping_) {
    std::vector<std::pair<CommitCallback, std::optional<CommitNotice>>> expired;
    std::vector<std::pair<core::TxHash, core::Bytes>> batch;
    std::string url;
    {
      std::unique_lock lock(mutex_);
      forwardWake_.wait_for(lock, std::chrono::milliseconds(500), [&] {
        return stopping_ || (!forwardQueue_.empty() && !leaderUrl_.empty() && !leading_);
      });
      if (stopping_) break;
      const auto now = std::chrono::steady_clock::now();
      for (auto it = forwarded_.begin(); it != forwarded_.end();) {
        if (it->second.deadline > now) {
          ++it;
          continue;
        }
        auto [first, last] = waiters_.equal_range(it->first);
        for (auto w = first; w != last; ++w)
          expired.emplace_back(std::move(w->second), std::nullopt);
        waiters_.erase(first, last);
        it = forwarded_.erase(it);
      }
      if (!leading_ && !leaderUrl_.empty()) {
        url = leaderUrl_;
        while (!forwardQueue_.empty() && batch.size() < 256) {
          core::TxHash hash = forwardQueue_.front();
          forwardQueue_.pop_front();
          auto found = forwarded_.find(hash);
          if (found != forwarded_.end())
            batch.emplace_back(hash, core::encode(found->second.transaction));
        }
      }
    }
    for (auto& [callback, notice] : expired) {
      if (callback) callback(notice);
    }
    std::vector<core::TxHash> retry;
    std::vector<std::pair<CommitCallback, std::optional<CommitNotice>>> refused;
    if (!batch.empty()) {
      // One request for the whole batch: each transaction after its 4-byte big-endian length.
      std::string body;
      for (const auto& [hash, bytes] : batch) {
        for (int shift = 24; shift >= 0; shift -= 8) {
          body.push_back(static_cast<char>((bytes.size() >> shift) & 0xff));
        }
        body.append(bytes.begin(), bytes.end());
      }
      auto answer = peerRequest(url + "/api/v1/transactions/batch", body,
                                "application/octet-stream", std::chrono::seconds(5));
      json results;
      if (answer && answer->status == 200) {
        results = json::parse(answer->body, nullptr, false).value("results", json());
      }
      if (!results.is_array() || results.size() != batch.size()) {
        // No answer, or not one we understand: all of it again (the leader dedupes).
        for (const auto& entry : batch) retry.push_back(entry.first);
      } else {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < batch.size(); ++i) {
          const int status = results[i].value("status", 0);
          if (status == 0 || status >= 500 || status == 429) {
            retry.push_back(batch[i].first);
          } else if (status >= 400) {
            // The leader refused it (its state is ahead of this member's): it will not commit.
            forwarded_.erase(batch[i].first);
            auto [first, last] = waiters_.equal_range(batch[i].first);
            for (auto w = first; w != last; ++w)
              refused.emplace_back(std::move(w->second), std::nullopt);
            waiters_.erase(first, last);
          }
        }
      }
    }
    for (auto& [callback, notice] : refused) {
      if (callback) callback(notice);
    }
    if (!retry.empty()) {
      {
        std::lock_guard lock(mutex_);
        for (auto it = retry.rbegin(); it != retry.rend(); ++it) forwardQueue_.push_front(*it);
      }
      pause(stopping_, std::chrono::milliseconds(200));
    }
  }
}

// ---- status --------------------------------------------------------------------------------

ConsortiumStatus EtcdOrderer::status() const {
  ConsortiumStatus status;
  std::vector<chain::Member> members = membersOf(ledger_);
  if (auto bytes = ledger_.get(chain::state_keys::consortium())) {
    if (auto record = core::decode<chain::ConsortiumRecord>(*bytes)) {
      status.membershipVersion = record->membershipVersion;
    }
  }
  status.member = std::any_of(members.begin(), members.end(),
                              [&](const chain::Member& m) { return m.key == member_.publicKey; });
  {
    std::lock_guard lock(mutex_);
    status.memberName = options_.memberName;
    status.leading = leading_;
    status.leaderName = leaderName_;
    status.leaderUrl = leaderUrl_;
    status.finalHeight = finalHeight_;
    status.tipHeight = tip_.height;
    status.diverged = diverged_;
    status.divergence = divergence_;
    status.forwarding = forwarded_.size();
    status.fetchedFromPeers = fetchedFromPeers_;
    status.etcdError = etcdError_;
    for (const chain::Member& member : members) {
      auto seen = attestedHeights_.find(member.key.hex());
      status.members.push_back(
          {member.name, member.key.hex(), seen == attestedHeights_.end() ? 0 : seen->second});
    }
  }
  status.height = ledger_.head().height;
  status.quorum = quorumOf(members.size());
  status.etcd = EtcdClient(options_.etcdEndpoints, std::chrono::milliseconds(500)).status();
  status.etcdReachable = std::any_of(status.etcd.begin(), status.etcd.end(),
                                     [](const EtcdMemberStatus& m) { return m.reachable; });
  return status;
}

}  // namespace jiancang::ordering
