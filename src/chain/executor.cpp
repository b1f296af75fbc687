#include <chain/executor.h>

#include <limits>

#include <chain/codec_internal.h>
#include <chain/executor_internal.h>
#include <chain/merkle_list.h>

namespace jiancang::chain {

using core::Status;
using detail::LayeredState;
using detail::refused;
using detail::TxContext;

namespace detail {

std::optional<Bytes> LayeredState::get(const Bytes& key) const {
  if (auto own = writes_.find(key); own != writes_.end()) return own->second;
  if (auto block = block_.find(key); block != block_.end()) return block->second;
  return base_.get(key);
}

core::Result<SeriesRecord> TxContext::series(SeriesId id) {
  auto notFound = [&] {
    return missing("series-not-found", "series " + id.toString() + " does not exist");
  };
  auto bytes = state_.get(state_keys::series(id));
  if (!bytes) return notFound();
  if (decodedSeries_ != nullptr) {
    auto known = decodedSeries_->find(id.value());
    if (known != decodedSeries_->end() && known->second.first == *bytes)
      return known->second.second;
  }
  auto record = decodeRecord<SeriesRecord>(*bytes);
  if (!record) return notFound();
  if (decodedSeries_ != nullptr) (*decodedSeries_)[id.value()] = {std::move(*bytes), *record};
  return std::move(*record);
}

core::Result<SeriesRecord> TxContext::ownSeries(SeriesId id) {
  auto record = series(id);
  if (record && record->issuer != signer) {
    return denied("not-series-issuer", "series " + id.toString() + " belongs to another issuer");
  }
  return record;
}

core::Result<TokenRecord> TxContext::liveToken(const TokenId& token) {
  auto record = load<TokenRecord>(state_keys::token(token));
  if (!record) return missing("token-not-found", "token " + token.toString() + " does not exist");
  if (record->burned) return refused("token-burned", "token " + token.toString() + " was burned");
  return std::move(*record);
}

core::Result<TokenRecord> TxContext::signersToken(const TokenId& token) {
  auto record = liveToken(token);
  if (!record) return record;
  if (record->owner != signer) {
    return denied("not-owner", "token " + token.toString() + " belongs to someone else");
  }
  if (record->frozen) {
    return refused("token-frozen",
                   "token " + token.toString() + " is frozen (" + record->frozenReason + ")");
  }
  return record;
}

Status TxContext::requireRole(std::uint32_t role, std::string_view roleName) {
  if ((account(signer).roles & role) != 0) return {};
  return denied("not-" + std::string(roleName),
                "the signer does not hold the " + std::string(roleName) + " role");
}

core::Result<core::BlockHash> TxContext::blockHashAt(std::uint64_t height) {
  auto record = load<BlockHashRecord>(state_keys::blockHash(height));
  if (!record) {
    return missing("block-hash-unknown",
                   "no block hash is recorded for height " + std::to_string(height));
  }
  return record->hash;
}

Status TxContext::mintTokens(SeriesRecord& series, const std::vector<Address>& recipients,
                             bool fromReservation) {
  const std::uint64_t count = recipients.size();
  if (fromReservation) {
    assert(series.reserved >= count);
  } else if (series.minted + series.reserved + count > series.editionCap) {
    return refused(
        "series-cap-reached",
        "series " + series.id.toString() + " is capped at " + std::to_string(series.editionCap) +
            "; " + std::to_string(series.minted) + " minted" +
            (series.reserved > 0
                 ? " and " + std::to_string(series.reserved) + " reserved for blind boxes"
                 : std::string()) +
            ", so " + std::to_string(count) + " more do not fit");
  }
  for (const Address& recipient : recipients) {
    if (account(recipient).frozen) {
      return refused("recipient-frozen", "recipient " + recipient.hex() + " is frozen");
    }
  }
  TokenRecord token;
  token.mintedAt = now();
  token.lastTransferAt = now();
  for (const RightDefinition& right : series.rights) token.rightUsesLeft.push_back(right.uses);
  receipt.firstSerial = series.minted + 1;
  receipt.count = count;
  for (const Address& recipient : recipients) {
    token.owner = recipient;
    save(state_keys::token(TokenId{series.id, ++series.minted}), token);
  }
  if (fromReservation) series.reserved -= count;
  return {};
}

void TxContext::burnToken(const TokenId& id, TokenRecord& token) {
  token.burned = true;
  save(state_keys::token(id), token);
}

Status TxContext::moveToken(const TokenId& id, TokenRecord& token, const SeriesRecord& series,
                            const Address& to, bool trade) {
  const PolicyVersion& policy = series.currentPolicy();
  receipt.policyVersion = policy.version;
  if (token.frozen) {
    return refused("token-frozen",
                   "token " + id.toString() + " is frozen (" + token.frozenReason + ")");
  }
  if (token.owner == to) return refused("same-owner", "the token already belongs to the recipient");
  if (account(to).frozen)
    return refused("recipient-frozen", "recipient " + to.hex() + " is frozen");
  if (trade ? !policy.policy.tradable : !policy.policy.transferable) {
    return refused(trade ? "not-tradable" : "not-transferable",
                   "series " + series.id.toString() + "'s policy version " +
                       std::to_string(policy.version) +
                       (trade ? " does not allow resale" : " does not allow gifts"));
  }
  const bool first = token.transferCount == 0;
  const std::uint64_t hold = first ? policy.policy.holdBeforeFirstTransferMillis
                                   : policy.policy.holdBetweenTransfersMillis;
  const Timestamp allowedFrom =
      token.lastTransferAt + core::Duration(static_cast<std::int64_t>(hold));
  if (now() < allowedFrom) {
    return refused("hold-period-active", "token " + id.toString() + " can change hands from " +
                                             std::to_string(allowedFrom.unixMillis()) +
                                             " (unix ms) under policy version " +
                                             std::to_string(policy.version));
  }
  token.owner = to;
  token.lastTransferAt = now();
  ++token.transferCount;
  save(state_keys::token(id), token);
  return {};
}

}  // namespace detail

namespace {

Status blockRefused(std::string reason, std::string message) {
  return core::invalidArgument(std::move(reason), std::move(message));
}

Status checkHeader(const ChainParameters& chain, const ChainHeadRecord& head,
                   const Hash256& stateRoot, const Block& block,
                   const std::vector<Hash256>& transactionHashes) {
  const BlockHeader& header = block.header;
  if (header.chainId != chain.chainId) {
    return blockRefused("block-wrong-chain", "the block belongs to chain " + header.chainId.hex());
  }
  if (header.height != head.height + 1) {
    return blockRefused("block-wrong-height", "expected height " + std::to_string(head.height + 1) +
                                                  ", the block has " +
                                                  std::to_string(header.height));
  }
  if (header.previousHash != head.blockHash) {
    return blockRefused("block-wrong-parent",
                        "the block does not follow block " + head.blockHash.hex());
  }
  if (header.timestamp < head.timestamp) {
    return blockRefused("block-time-backwards", "the block's time is before its parent's");
  }
  if (header.previousStateRoot != stateRoot) {
    return blockRefused("block-wrong-state-root", "the block claims state root " +
                                                      header.previousStateRoot.hex() +
                                                      ", the state here is " + stateRoot.hex());
  }
  if (block.transactions.size() > limits::kMaxBlockTransactions ||
      header.transactionCount != block.transactions.size()) {
    return blockRefused("block-transaction-count",
                        "the header's transaction count is wrong or "
                        "above the limit");
  }
  if (header.transactionsRoot != listMerkleRoot(chain.crypto(), transactionHashes)) {
    return blockRefused("block-wrong-transactions-root",
                        "the transactions do not match the header's root");
  }
  return {};
}

// Folds the block's state changes into the tree.
core::Result<BlockOutcome> finish(const core::CryptoSuite& suite, const MerkleNodeSource& nodes,
                                  const Hash256& stateRoot, BlockOutcome outcome) {
  std::vector<MerkleUpdate> updates;
  updates.reserve(outcome.changes.size());
  for (const auto& [key, value] : outcome.changes) {
    MerkleUpdate update{merkleKeyHash(suite, key), std::nullopt};
    if (value) update.valueHash = merkleValueHash(suite, *value);
    updates.push_back(update);
  }
  auto tree = updateMerkleTree(suite, nodes, stateRoot, std::move(updates));
  if (!tree) {
    return Status(core::ErrorCode::kCorruption, "merkle-node-missing",
                  "the state tree lacks a node it needs at root " + stateRoot.hex());
  }
  outcome.stateRoot = tree->root;
  outcome.newNodes = std::move(tree->newNodes);
  return outcome;
}

class EmptyState final : public StateReader {
 public:
  std::optional<Bytes> get(ByteView) const override { return std::nullopt; }
};

}  // namespace

core::Result<BlockOutcome> applyGenesis(const Genesis& genesis) {
  if (Status status = checkGenesis(genesis); !status.isOk()) return status;
  ChainParameters chain = chainParametersOf(genesis);
  BlockOutcome outcome;
  outcome.blockHash = core::BlockHash(chain.chainId.array());
  auto put = [&](Bytes key, Bytes value) { outcome.changes[std::move(key)] = std::move(value); };
  put(state_keys::consortium(), core::encode(ConsortiumRecord{genesis.members, 0}));
  for (const RoleGrant& grant : genesis.roleGrants) {
    AccountRecord account;
    account.roles = grant.roles;
    put(state_keys::account(grant.account), core::encode(account));
  }
  ChainHeadRecord head;
  head.height = 0;
  head.blockHash = outcome.blockHash;
  head.timestamp = genesis.timestamp;
  put(state_keys::chainHead(), core::encode(head));
  put(state_keys::blockHash(0), core::encode(BlockHashRecord{head.blockHash}));
  MemoryMerkleNodes empty;
  return finish(chain.crypto(), empty, Hash256(), std::move(outcome));
}

core::Status dryRunTransaction(const ChainParameters& chain, const StateReader& state,
                               const BlockHeader& header, const SignedTransaction& transaction) {
  const StateChanges none;
  LayeredState layered(state, none);
  Receipt receipt;
  const Address signer = transaction.signerAddress();
  TxContext context(chain, header, layered, signer, receipt);
  AccountRecord account = context.account(signer);
  if (!context.corruption().isOk()) return context.corruption();
  if (transaction.transaction.nonce != account.nonce) {
    return refused("nonce-mismatch", "the signer's next nonce is " + std::to_string(account.nonce) +
                                         ", the transaction has " +
                                         std::to_string(transaction.transaction.nonce));
  }
  if (account.frozen) {
    return refused("account-frozen",
                   "the signer's account is frozen (" + account.frozenReason + ")");
  }
  ++account.nonce;
  context.save(state_keys::account(signer), account);
  Status status = detail::applyOperation(context, transaction.transaction.operation);
  if (!context.corruption().isOk()) return context.corruption();
  return status;
}

core::Result<BlockOutcome> applyBlock(const ChainParameters& chain, const StateReader& state,
                                      const MerkleNodeSource& nodes, const Hash256& stateRoot,
                                      const Block& block, const ApplyOptions& options) {
  const core::CryptoSuite& suite = chain.crypto();
  BlockOutcome outcome;

  auto headBytes = state.get(state_keys::chainHead());
  auto head = headBytes ? core::decode<ChainHeadRecord>(*headBytes)
                        : core::Result<ChainHeadRecord>(
                              Status(core::ErrorCode::kCorruption, "chain-not-initialised",
                                     "the state has no chain head: apply genesis first"));
  if (!head) return head.status();

  // Each transaction is encoded once: for its hash, and again below for its signature check.
  std::vector<Bytes> encodedTransactions;
  std::vector<Hash256> transactionHashes;
  encodedTransactions.reserve(block.transactions.size());
  transactionHashes.reserve(block.transactions.size());
  for (const SignedTransaction& transaction : block.transactions) {
    encodedTransactions.push_back(core::encode(transaction));
    transactionHashes.push_back(suite.hash(encodedTransactions.back()));
  }
  if (Status status = checkHeader(chain, *head, stateRoot, block, transactionHashes);
      !status.isOk()) {
    return status;
  }

  outcome.blockHash = blockHash(chain, block.header);
  head->height = block.header.height;
  head->blockHash = outcome.blockHash;
  head->timestamp = block.header.timestamp;
  outcome.changes[state_keys::chainHead()] = core::encode(*head);
  outcome.changes[state_keys::blockHash(block.header.height)] =
      core::encode(BlockHashRecord{outcome.blockHash});

  // The context-free checks (shape, signature) of the whole block first: one pass keeps the
  // signature code's tables in cache and the state's records in cache for the pass after it
  // (interleaved, each evicted the other: bench/chain_apply).
  std::vector<Status> contextFree;
  contextFree.reserve(block.transactions.size());
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    contextFree.push_back(checkTransaction(chain, block.transactions[i], options.verifySignatures,
                                           encodedTransactions[i]));
  }

  detail::DecodedSeries decodedSeries;
  outcome.receipts.reserve(block.transactions.size());
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const SignedTransaction& signedTransaction = block.transactions[i];
    const Transaction& transaction = signedTransaction.transaction;
    Receipt& receipt = outcome.receipts.emplace_back();
    TransactionWrites discarded;
    TransactionWrites& writes =
        options.recordTransactionWrites ? outcome.transactionWrites.emplace_back() : discarded;
    receipt.txHash = core::TxHash(transactionHashes[i].array());
    auto fail = [&](const Status& status) {
      receipt.code = status.code();
      receipt.reason = status.reason();
      receipt.message = status.message();
    };

    if (!contextFree[i].isOk()) {
      fail(contextFree[i]);
      continue;
    }
    const Address signer = signedTransaction.signerAddress();
    Status applied;
    {
      // The nonce first: it moves on whether the operation succeeds or not.
      LayeredState nonceState(state, outcome.changes);
      TxContext nonceContext(chain, block.header, nonceState, signer, receipt);
      AccountRecord account = nonceContext.account(signer);
      if (!nonceContext.corruption().isOk()) return nonceContext.corruption();
      if (transaction.nonce != account.nonce) {
        fail(refused("nonce-mismatch",
                     "the signer's next nonce is " + std::to_string(account.nonce) +
                         ", the transaction has " + std::to_string(transaction.nonce)));
        continue;
      }
      ++account.nonce;
      nonceContext.save(state_keys::account(signer), account);
      for (auto& [key, value] : nonceState.writes()) {
        if (options.recordTransactionWrites) writes.emplace_back(key, value);
        outcome.changes[key] = std::move(value);
      }
      if (account.frozen) {
        fail(refused("account-frozen",
                     "the signer's account is frozen (" + account.frozenReason + ")"));
        continue;
      }
    }
    LayeredState transactionState(state, outcome.changes);
    TxContext context(chain, block.header, transactionState, signer, receipt, &decodedSeries);
    applied = detail::applyOperation(context, transaction.operation);
    if (!context.corruption().isOk()) return context.corruption();
    if (!applied.isOk()) {
      // Nothing the operation wrote survives: all or nothing.
      Receipt failed;
      failed.txHash = receipt.txHash;
      receipt = failed;
      fail(applied);
      continue;
    }
    for (auto& [key, value] : transactionState.writes()) {
      if (options.recordTransactionWrites) writes.emplace_back(key, value);
      outcome.changes[key] = std::move(value);
    }
  }
  return finish(suite, nodes, stateRoot, std::move(outcome));
}

void Receipt::encodeTo(core::Writer& writer) const {
  writer.fixed(txHash.view());
  writer.varint(static_cast<std::uint64_t>(code));
  writer.string(reason);
  writer.string(message);
  writer.varint(createdId);
  writer.varint(firstSerial);
  writer.varint(count);
  writer.varint(policyVersion);
}

Receipt Receipt::decodeFrom(core::Reader& reader) {
  Receipt receipt;
  receipt.txHash = codec::readFixed<core::TxHash>(reader);
  receipt.code = codec::readEnum<core::ErrorCode>(
      reader, 0, static_cast<std::uint64_t>(core::ErrorCode::kInternal), "receipt code");
  receipt.reason = reader.string(256, "receipt reason");
  receipt.message = reader.string(65536, "receipt message");
  receipt.createdId = reader.varint();
  receipt.firstSerial = reader.varint();
  receipt.count = reader.varint();
  receipt.policyVersion = static_cast<std::uint32_t>(
      reader.varintAtMost(std::numeric_limits<std::uint32_t>::max(), "receipt policy version"));
  return receipt;
}

}  // namespace jiancang::chain
