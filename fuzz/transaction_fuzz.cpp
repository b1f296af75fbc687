// libFuzzer target: the signed-transaction decoder and the context-free checks. Whatever decodes
// must re-encode to the same bytes and survive checkTransaction without a crash.
#include <cstdlib>

#include <chain/transaction.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace chain = jiancang::chain;
  jiancang::core::ByteView input(data, size);
  auto decoded = chain::decodeSignedTransaction(input);
  if (!decoded.ok()) return 0;
  if (jiancang::core::encode(*decoded) != jiancang::core::Bytes(input.begin(), input.end())) {
    std::abort();
  }
  chain::ChainParameters parameters{decoded->transaction.chainId,
                                    decoded->transaction.signer.suite()};
  (void)chain::checkTransaction(parameters, *decoded, true);
  (void)chain::operationName(decoded->transaction.operation);
  return 0;
}
