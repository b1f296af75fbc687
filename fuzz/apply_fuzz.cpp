// libFuzzer target: random well-formed operation sequences, chosen by the fuzzer's bytes, applied
// block by block with the invariants checked after each (minted ≤ cap, minted − burned = live,
// one owner per live token), plus the root rebuilt from scratch at the end.
#include <cstdlib>

#include <fuzzer/FuzzedDataProvider.h>

#include <chain/fair_random.h>
#include <chain/testing/test_chain.h>

namespace {

namespace chain = jiancang::chain;
using chain::testing::TestChain;

chain::Operation nextOperation(FuzzedDataProvider& input, TestChain& t,
                               const jiancang::core::KeyPair*& signer) {
  auto collector = [&]() -> const jiancang::core::KeyPair& {
    return t.collector(input.ConsumeIntegralInRange<std::size_t>(0, TestChain::kCollectors - 1));
  };
  auto address = [&] { return TestChain::address(collector()); };
  std::size_t issuer = input.ConsumeIntegralInRange<std::size_t>(0, 1);
  chain::SeriesId series(input.ConsumeIntegralInRange<std::uint64_t>(1, 6));
  chain::TokenId token{series, input.ConsumeIntegralInRange<std::uint64_t>(1, 12)};
  switch (input.ConsumeIntegralInRange<int>(0, 11)) {
    case 0: {
      signer = &t.issuer(issuer);
      chain::SeriesPolicy policy;
      policy.transferable = input.ConsumeBool();
      policy.tradable = input.ConsumeBool();
      policy.holdBeforeFirstTransferMillis = input.ConsumeIntegralInRange<std::uint64_t>(0, 3);
      return TestChain::seriesTemplate(input.ConsumeIntegralInRange<std::uint64_t>(1, 12), policy);
    }
    case 1: {
      signer = &t.issuer(issuer);
      chain::Mint mint{series, {}};
      std::size_t count = input.ConsumeIntegralInRange<std::size_t>(1, 4);
      for (std::size_t i = 0; i < count; ++i) mint.recipients.push_back(address());
      return mint;
    }
    case 2:
      signer = &collector();
      return chain::Transfer{token, address()};
    case 3:
      signer = &collector();
      return chain::Burn{token};
    case 4:
      signer = &t.governance();
      return chain::SetFrozen{chain::FreezeTarget::kToken, token, {}, input.ConsumeBool(), "fuzz"};
    case 5: {
      signer = &t.issuer(issuer);
      chain::SeriesId item(input.ConsumeIntegralInRange<std::uint64_t>(1, 6));
      return chain::CommitBlindBox{
          series,
          {{item, input.ConsumeIntegralInRange<std::uint32_t>(1, 12)}},
          chain::seedCommitment(t.parameters().crypto(), chain::testing::testHash("s")),
          t.now() + jiancang::core::Duration(input.ConsumeIntegralInRange<int>(1, 50))};
    }
    case 6:
      signer = &t.issuer(issuer);
      return chain::SealBlindBox{series};
    case 7:
      signer = &t.issuer(issuer);
      return chain::RevealBlindBox{series,
                                   chain::testing::testHash(input.ConsumeBool() ? "s" : "x")};
    case 8:
      signer = &collector();
      return input.ConsumeBool() ? chain::Operation(chain::OpenBlindBox{token})
                                 : chain::Operation(chain::RefundBlindBox{token});
    case 9: {
      signer = &t.issuer(issuer);
      chain::SeriesId other(input.ConsumeIntegralInRange<std::uint64_t>(1, 6));
      return chain::CreateRecipe{{{other, input.ConsumeIntegralInRange<std::uint32_t>(1, 2)}},
                                 series,
                                 t.now(),
                                 t.now() + jiancang::core::Duration(100),
                                 3};
    }
    case 10: {
      signer = &collector();
      chain::Synthesise op{chain::RecipeId(input.ConsumeIntegralInRange<std::uint64_t>(1, 3)), {}};
      std::size_t count = input.ConsumeIntegralInRange<std::size_t>(1, 3);
      for (std::size_t i = 0; i < count; ++i) {
        op.inputs.push_back(
            chain::TokenId{chain::SeriesId(input.ConsumeIntegralInRange<std::uint64_t>(1, 6)),
                           input.ConsumeIntegralInRange<std::uint64_t>(1, 12)});
      }
      return op;
    }
    default: {
      signer = &t.market();
      jiancang::core::Fen price(input.ConsumeIntegralInRange<std::int64_t>(1, 1000));
      return chain::SettleTrade{token,
                                address(),
                                address(),
                                price,
                                *price.share(500),
                                jiancang::core::Fen(0),
                                "p" + std::to_string(input.ConsumeIntegral<std::uint32_t>())};
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  TestChain t;
  t.registerIssuer(0);
  t.registerIssuer(1);
  for (int block = 0; block < 40 && input.remaining_bytes() > 0; ++block) {
    std::vector<chain::SignedTransaction> transactions;
    std::size_t count = input.ConsumeIntegralInRange<std::size_t>(1, 4);
    for (std::size_t i = 0; i < count && input.remaining_bytes() > 0; ++i) {
      const jiancang::core::KeyPair* signer = nullptr;
      chain::Operation operation = nextOperation(input, t, signer);
      // Unsigned: signatures have their own tests and target; here the state machine is under test.
      chain::Transaction transaction{t.parameters().chainId, signer->publicKey, t.nonceOf(*signer),
                                     std::move(operation)};
      transactions.push_back(chain::SignedTransaction{std::move(transaction), {}});
    }
    t.advance(input.ConsumeIntegralInRange<int>(1, 20));
    auto outcome = t.chain().commit(std::move(transactions), t.now(), chain::ApplyOptions{false});
    if (!outcome.ok()) std::abort();  // well-formed blocks are never refused
    if (!chain::testing::checkChainInvariants(t.chain()).isOk()) std::abort();
  }
  const auto& suite = t.parameters().crypto();
  std::vector<chain::MerkleUpdate> all;
  for (const auto& [key, value] : t.chain().entries()) {
    all.push_back({chain::merkleKeyHash(suite, key), chain::merkleValueHash(suite, value)});
  }
  chain::MemoryMerkleNodes fresh;
  if (chain::updateMerkleTree(suite, fresh, chain::Hash256(), all)->root != t.chain().stateRoot()) {
    std::abort();
  }
  return 0;
}
