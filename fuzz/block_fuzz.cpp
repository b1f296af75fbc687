// libFuzzer target: the block decoder, then applying whatever decodes to a fresh test chain.
// Decoded blocks must re-encode to the same bytes; applying must refuse or succeed, never crash,
// and leave the invariants intact.
#include <cstdlib>

#include <chain/testing/test_chain.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace chain = jiancang::chain;
  jiancang::core::ByteView input(data, size);
  auto block = jiancang::core::decode<chain::Block>(input);
  if (!block.ok()) return 0;
  if (jiancang::core::encode(*block) != jiancang::core::Bytes(input.begin(), input.end())) {
    std::abort();
  }
  chain::testing::TestChain t;
  // Give the fuzzer a chance at a valid header: chain id, parent and state root from the chain.
  chain::Block adjusted = *block;
  adjusted.header.chainId = t.parameters().chainId;
  adjusted.header.height = 1;
  adjusted.header.previousHash = t.chain().headHash();
  adjusted.header.previousStateRoot = t.chain().stateRoot();
  adjusted.header.transactionCount = static_cast<std::uint32_t>(adjusted.transactions.size());
  adjusted.header.transactionsRoot = chain::transactionsRoot(t.parameters(), adjusted.transactions);
  for (const chain::Block& candidate : {*block, adjusted}) {
    (void)t.chain().apply(candidate, chain::ApplyOptions{false});
    if (!chain::testing::checkChainInvariants(t.chain()).isOk()) std::abort();
  }
  return 0;
}
