// bench/chain_apply: signed transfers applied per second by the pure state machine on one core,
// with and without signature checks, next to the bare libsodium Ed25519 verify rate measured in
// the same run, and the cost of the state-root update per transfer. Medians of several runs.
//
//   build/release/bench/chain_apply [--runs N] [--transfers N] [--tokens N] [--block N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sodium.h>

#include <chain/testing/test_chain.h>

namespace {

namespace chain = jiancang::chain;
namespace core = jiancang::core;
using chain::testing::TestChain;
using Clock = std::chrono::steady_clock;

struct Options {
  int runs = 5;
  std::size_t transfers = 20'000;
  std::size_t tokens = 100'000;
  std::size_t blockSize = 1'000;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    auto value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--runs")
      options.runs = static_cast<int>(value);
    else if (flag == "--transfers")
      options.transfers = value;
    else if (flag == "--tokens")
      options.tokens = value;
    else if (flag == "--block")
      options.blockSize = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (options.transfers > options.tokens) options.transfers = options.tokens;
  return options;
}

double seconds(Clock::duration elapsed) { return std::chrono::duration<double>(elapsed).count(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "chain_apply: %s\n", what);
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  require(sodium_init() >= 0, "libsodium did not initialise");

  // A chain holding `tokens` tokens spread over the collectors.
  TestChain t;
  chain::SeriesId series = t.createSeries(0, options.tokens);
  for (std::size_t minted = 0; minted < options.tokens; minted += chain::limits::kMaxMintBatch) {
    chain::Mint mint{series, {}};
    for (std::size_t i = minted;
         i < std::min(options.tokens, minted + chain::limits::kMaxMintBatch); ++i) {
      mint.recipients.push_back(TestChain::address(t.collector(i % TestChain::kCollectors)));
    }
    require(t.run(t.issuer(0), mint).ok(), "minting the starting state failed");
  }

  // Pre-signed transfers: token i moves from its owner to the next collector, in blocks.
  std::vector<std::uint64_t> nonces(TestChain::kCollectors);
  for (std::size_t c = 0; c < TestChain::kCollectors; ++c) nonces[c] = t.nonceOf(t.collector(c));
  std::vector<chain::Block> blocks;
  std::vector<chain::SignedTransaction> pending;
  chain::MemoryChain planner = t.chain();
  core::Timestamp time = t.now();
  std::vector<std::vector<chain::SignedTransaction>> batches;
  for (std::size_t i = 0; i < options.transfers; ++i) {
    std::size_t owner = i % TestChain::kCollectors;
    chain::Transfer transfer{chain::TokenId{series, i + 1},
                             TestChain::address(t.collector((owner + 1) % TestChain::kCollectors))};
    pending.push_back(t.signWithNonce(t.collector(owner), transfer, nonces[owner]++));
    if (pending.size() == options.blockSize || i + 1 == options.transfers) {
      batches.push_back(std::move(pending));
      pending.clear();
    }
  }
  // Build the blocks on a planning copy so each header carries the right parent and state root.
  for (auto& batch : batches) {
    time = time + core::Duration(1000);
    chain::Block block = planner.nextBlock(std::move(batch), time);
    auto outcome = planner.apply(block, chain::ApplyOptions{false});
    require(outcome.ok(), "planning a block failed");
    for (const chain::Receipt& receipt : outcome->receipts)
      require(receipt.ok(), "a transfer failed");
    blocks.push_back(std::move(block));
  }

  // The signing messages, for the verify-only reference.
  std::vector<core::Bytes> messages;
  std::vector<const chain::SignedTransaction*> signedTransactions;
  for (const chain::Block& block : blocks) {
    for (const chain::SignedTransaction& transaction : block.transactions) {
      messages.push_back(chain::transactionSigningMessage(transaction.transaction));
      signedTransactions.push_back(&transaction);
    }
  }

  std::vector<double> verifyRates, applyRates, applyNoSignatureRates, rootMicros, storeMicros;
  for (int run = 0; run < options.runs; ++run) {
    // 1. libsodium alone: crypto_sign_verify_detached over the same messages.
    auto start = Clock::now();
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const chain::SignedTransaction& transaction = *signedTransactions[i];
      int result = crypto_sign_verify_detached(transaction.signature.array().data(),
                                               messages[i].data(), messages[i].size(),
                                               transaction.transaction.signer.bytes().data());
      require(result == 0, "a signature did not verify");
    }
    verifyRates.push_back(static_cast<double>(messages.size()) / seconds(Clock::now() - start));

    // 2. and 3. The state machine alone (applyBlock: state view + block -> write-set, receipts
    // and root), with and without signature checks, from the same starting state. Making each
    // write-set the next block's state (storage: the ledger's job) is timed on its own.
    for (bool verify : {true, false}) {
      chain::MemoryChain copy = t.chain();
      std::vector<chain::StateChanges> changes;
      Clock::duration applying{};
      Clock::duration storing{};
      for (const chain::Block& block : blocks) {
        auto applyStart = Clock::now();
        auto outcome = chain::applyBlock(copy.parameters(), copy, copy.nodes(), copy.stateRoot(),
                                         block, chain::ApplyOptions{verify});
        auto applyEnd = Clock::now();
        applying += applyEnd - applyStart;
        require(outcome.ok() && outcome->receipts.back().ok(), "applying a block failed");
        copy.absorb(*outcome, block.header.height);
        storing += Clock::now() - applyEnd;
        if (!verify) changes.push_back(std::move(outcome->changes));
      }
      double count = static_cast<double>(messages.size());
      (verify ? applyRates : applyNoSignatureRates).push_back(count / seconds(applying));
      storeMicros.push_back(seconds(storing) * 1e6 / count);

      // 4. The state-root update alone, over the same changes, from the same starting tree.
      if (!verify) {
        chain::MemoryMerkleNodes nodes = t.chain().nodes();
        core::Hash256 root = t.chain().stateRoot();
        const core::CryptoSuite& suite = t.parameters().crypto();
        std::vector<std::vector<chain::MerkleUpdate>> updates;
        for (const chain::StateChanges& blockChanges : changes) {
          auto& list = updates.emplace_back();
          for (const auto& [key, value] : blockChanges) {
            list.push_back(
                {chain::merkleKeyHash(suite, key),
                 value ? std::optional(chain::merkleValueHash(suite, *value)) : std::nullopt});
          }
        }
        Clock::duration updating{};
        for (auto& list : updates) {
          auto rootStart = Clock::now();
          auto result = chain::updateMerkleTree(suite, nodes, root, std::move(list));
          updating += Clock::now() - rootStart;
          require(result.has_value(), "the tree update failed");
          nodes.insert(result->newNodes);
          root = result->root;
        }
        require(root == copy.stateRoot(), "the tree update gave another root");
        rootMicros.push_back(seconds(updating) * 1e6 / count);
      }
    }
  }

  double verify = median(verifyRates);
  double apply = median(applyRates);
  double applyNoSignatures = median(applyNoSignatureRates);
  std::printf(
      "chain_apply: %zu signed Ed25519 transfers in blocks of %zu, over a state of %zu tokens;"
      " one thread; median of %d runs\n",
      messages.size(), options.blockSize, options.tokens, options.runs);
  std::printf("  libsodium verify alone (reference)    %10.0f tx/s\n", verify);
  std::printf(
      "  apply with signature checks           %10.0f tx/s   ratio %.3f of verify-only (goal >= "
      "0.85)\n",
      apply, apply / verify);
  std::printf("  apply without signature checks        %10.0f tx/s\n", applyNoSignatures);
  std::printf(
      "  of which the state-root update        %10.2f us per transfer (%.1f%% of a verify)\n",
      median(rootMicros), median(rootMicros) / (1e6 / verify) * 100);
  std::printf(
      "  storing each write-set in memory      %10.2f us per transfer (not the state machine: the\n"
      "                                                      ledger stores write-sets in "
      "RocksDB)\n",
      median(storeMicros));
  return 0;
}
