// What the operation handlers share: the layered state of a transaction and typed access to it.
#pragma once

#include <unordered_map>

#include <chain/executor.h>
#include <chain/state_keys.h>

namespace jiancang::chain::detail {

using core::Status;

// A transaction's writes over the block's writes over the state before the block.
class LayeredState {
 public:
  LayeredState(const StateReader& base, const StateChanges& block) : base_(base), block_(block) {}

  std::optional<Bytes> get(const Bytes& key) const;
  void put(Bytes key, Bytes value) { writes_[std::move(key)] = std::move(value); }
  StateChanges& writes() { return writes_; }

 private:
  const StateReader& base_;
  const StateChanges& block_;
  StateChanges writes_;
};

// Series records already decoded in this block, each with the bytes it came from. Nearly every
// operation reads its series, and decoding it again was a large part of a transfer's cost. An
// entry is used only when the stored bytes are identical, so it can never serve a stale record.
using DecodedSeries = std::unordered_map<std::uint64_t, std::pair<Bytes, SeriesRecord>>;

class TxContext {
 public:
  TxContext(const ChainParameters& chainParameters, const BlockHeader& blockHeader,
            LayeredState& state, const Address& signerAddress, Receipt& transactionReceipt,
            DecodedSeries* decodedSeries = nullptr)
      : chain(chainParameters),
        header(blockHeader),
        signer(signerAddress),
        receipt(transactionReceipt),
        state_(state),
        decodedSeries_(decodedSeries) {}

  const ChainParameters& chain;
  const BlockHeader& header;
  const Address& signer;
  Receipt& receipt;

  Timestamp now() const { return header.timestamp; }
  std::uint64_t height() const { return header.height; }

  // A stored record, or nothing if absent. A record that does not decode is corruption: it is
  // remembered and the whole block fails.
  template <typename Record>
  std::optional<Record> load(const Bytes& key) {
    auto bytes = state_.get(key);
    if (!bytes) return std::nullopt;
    return decodeRecord<Record>(*bytes);
  }

  template <typename Record>
  std::optional<Record> decodeRecord(ByteView bytes) {
    auto record = core::decode<Record>(bytes);
    if (!record) {
      if (corruption_.isOk()) {
        corruption_ = Status(core::ErrorCode::kCorruption, "state-corrupt",
                             std::string(Record::kEncodingName) +
                                 " record does not decode: " + record.status().message());
      }
      return std::nullopt;
    }
    return std::move(record).value();
  }

  template <typename Record>
  void save(const Bytes& key, const Record& record) {
    state_.put(key, core::encode(record));
  }

  bool exists(const Bytes& key) const { return state_.get(key).has_value(); }
  const Status& corruption() const { return corruption_; }

  // Common lookups, each with its stable rejection.
  AccountRecord account(const Address& address) {
    return load<AccountRecord>(state_keys::account(address)).value_or(AccountRecord{});
  }
  ChainHeadRecord head() {
    return load<ChainHeadRecord>(state_keys::chainHead()).value_or(ChainHeadRecord{});
  }
  core::Result<SeriesRecord> series(SeriesId id);
  // The series, which the signer must have issued.
  core::Result<SeriesRecord> ownSeries(SeriesId id);
  // A token that exists and is not burned.
  core::Result<TokenRecord> liveToken(const TokenId& token);
  // A live token the signer owns and that is not frozen.
  core::Result<TokenRecord> signersToken(const TokenId& token);
  Status requireRole(std::uint32_t role, std::string_view roleName);
  core::Result<core::BlockHash> blockHashAt(std::uint64_t height);

  // Mints the next serials of `series` to `recipients`; the caller saves `series` afterwards.
  // `fromReservation`: the serials were reserved for blind boxes.
  Status mintTokens(SeriesRecord& series, const std::vector<Address>& recipients,
                    bool fromReservation);
  // Burns a live token; the caller has checked who may.
  void burnToken(const TokenId& id, TokenRecord& token);
  // Moves a token to `to` after the policy's checks: a gift when `trade` is false, else a sale.
  Status moveToken(const TokenId& id, TokenRecord& token, const SeriesRecord& series,
                   const Address& to, bool trade);

 private:
  LayeredState& state_;
  DecodedSeries* decodedSeries_;
  Status corruption_;
};

inline Status refused(std::string reason, std::string message) {
  return core::failedPrecondition(std::move(reason), std::move(message));
}
inline Status denied(std::string reason, std::string message) {
  return {core::ErrorCode::kPermissionDenied, std::move(reason), std::move(message)};
}
inline Status missing(std::string reason, std::string message) {
  return core::notFound(std::move(reason), std::move(message));
}

// One handler per operation: ops_assets.cpp, ops_fairness.cpp, ops_market.cpp,
// ops_governance.cpp. Each checks against the state and writes through the context.
Status apply(TxContext& context, const RegisterIssuer& op);
Status apply(TxContext& context, const CreateSeries& op);
Status apply(TxContext& context, const UpdateSeriesPolicy& op);
Status apply(TxContext& context, const Mint& op);
Status apply(TxContext& context, const Transfer& op);
Status apply(TxContext& context, const Burn& op);
Status apply(TxContext& context, const CommitBlindBox& op);
Status apply(TxContext& context, const SealBlindBox& op);
Status apply(TxContext& context, const RevealBlindBox& op);
Status apply(TxContext& context, const OpenBlindBox& op);
Status apply(TxContext& context, const RefundBlindBox& op);
Status apply(TxContext& context, const CommitLottery& op);
Status apply(TxContext& context, const DrawLottery& op);
Status apply(TxContext& context, const CreateRecipe& op);
Status apply(TxContext& context, const Synthesise& op);
Status apply(TxContext& context, const SettleTrade& op);
Status apply(TxContext& context, const RedeemRight& op);
Status apply(TxContext& context, const SetFrozen& op);
Status apply(TxContext& context, const GrantRoles& op);
Status apply(TxContext& context, const ChangeMembership& op);

inline Status applyOperation(TxContext& context, const Operation& operation) {
  return std::visit([&](const auto& op) { return apply(context, op); }, operation);
}

}  // namespace jiancang::chain::detail
