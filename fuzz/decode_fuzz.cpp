// libFuzzer target for core's decoders. The first byte picks the decoder, the rest is its input.
// Beyond "no crash, no sanitizer report", each decoder has an oracle: whatever it accepts must
// re-encode to exactly the accepted bytes (one byte string per value).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <core/crypto.h>
#include <core/encoding.h>
#include <core/money.h>
#include <core/testing/specimen.h>

namespace {

using namespace jiancang::core;  // NOLINT(google-build-using-namespace): a fuzz entry point

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzzSpecimen(ByteView input) {
  auto decoded = decode<testing::Specimen>(input);
  if (!decoded.ok()) return;
  Bytes again = encode(*decoded);
  check(Bytes(input.begin(), input.end()) == again);
}

void fuzzPublicKey(ByteView input) {
  Reader reader(input);
  PublicKey key = PublicKey::decodeFrom(reader);
  if (!reader.finish().isOk()) return;
  Writer writer;
  key.encodeTo(writer);
  check(Bytes(input.begin(), input.end()) == writer.data());
  // A key that decodes must be usable: verifying any signature must not crash.
  (void)cryptoSuite(key.suite()).verify(key, input, Signature());
}

void fuzzHex(ByteView input) {
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  auto bytes = fromHex(text);
  if (!bytes.ok()) return;
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  check(toHex(*bytes) == lower);
}

void fuzzMoney(ByteView input) {
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  auto amount = Fen::parseYuan(text);
  if (!amount.ok()) return;
  auto again = Fen::parseYuan(amount->toYuanString());
  check(again.ok() && *again == *amount);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ByteView input(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      fuzzSpecimen(input);
      break;
    case 1:
      fuzzPublicKey(input);
      break;
    case 2:
      fuzzHex(input);
      break;
    default:
      fuzzMoney(input);
      break;
  }
  return 0;
}
