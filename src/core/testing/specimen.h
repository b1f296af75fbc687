// A value that uses every rule of the canonical encoding, for the encoding's property tests and
// its fuzz target. Test support only: production code never includes it.
#pragma once

#include <optional>
#include <random>
#include <string>
#include <vector>

#include <core/encoding.h>
#include <core/hash.h>

namespace jiancang::core::testing {

struct Specimen {
  static constexpr std::uint8_t kEncodingVersion = 3;
  static constexpr std::string_view kEncodingName = "specimen";
  static constexpr std::size_t kMaxBlob = 64;
  static constexpr std::size_t kMaxText = 32;
  static constexpr std::size_t kMaxList = 8;

  std::uint8_t small = 0;
  bool flag = false;
  std::uint64_t number = 0;
  std::int64_t signedNumber = 0;
  Hash256 digest;
  Bytes blob;
  std::string text;
  std::vector<std::uint64_t> list;
  std::optional<std::int64_t> maybe;

  void encodeTo(Writer& writer) const {
    writer.u8(small);
    writer.boolean(flag);
    writer.varint(number);
    writer.signedVarint(signedNumber);
    writer.fixed(digest.view());
    writer.bytes(blob);
    writer.string(text);
    writer.count(list.size());
    for (std::uint64_t item : list) writer.varint(item);
    writer.boolean(maybe.has_value());
    if (maybe) writer.signedVarint(*maybe);
  }

  static Specimen decodeFrom(Reader& reader) {
    Specimen value;
    value.small = reader.u8();
    value.flag = reader.boolean();
    value.number = reader.varint();
    value.signedNumber = reader.signedVarint();
    value.digest = reader.fixed<32, void>();
    value.blob = reader.bytes(kMaxBlob, "blob");
    value.text = reader.string(kMaxText, "text");
    std::size_t items = reader.count(kMaxList, "list");
    value.list.reserve(items);
    for (std::size_t i = 0; i < items; ++i) value.list.push_back(reader.varint());
    if (reader.boolean()) value.maybe = reader.signedVarint();
    return value;
  }

  friend bool operator==(const Specimen&, const Specimen&) = default;
};

// A random Specimen whose integers spread over every varint length.
inline Specimen randomSpecimen(std::mt19937_64& random) {
  auto anyBits = [&] { return random() >> (random() % 64); };
  Specimen value;
  value.small = static_cast<std::uint8_t>(random());
  value.flag = random() % 2 == 1;
  value.number = anyBits();
  value.signedNumber = static_cast<std::int64_t>(anyBits()) * (random() % 2 == 0 ? 1 : -1);
  for (auto& byte : value.digest.mutableArray()) byte = static_cast<std::uint8_t>(random());
  value.blob.resize(random() % (Specimen::kMaxBlob + 1));
  for (auto& byte : value.blob) byte = static_cast<std::uint8_t>(random());
  static const char* const kPieces[] = {"a", "鉴", "藏", "é", "😀", "#0001/8888", " "};
  while (true) {
    const char* piece = kPieces[random() % std::size(kPieces)];
    if (value.text.size() + std::char_traits<char>::length(piece) > Specimen::kMaxText ||
        random() % 8 == 0) {
      break;
    }
    value.text += piece;
  }
  value.list.resize(random() % (Specimen::kMaxList + 1));
  for (auto& item : value.list) item = anyBits();
  if (random() % 2 == 0) value.maybe = static_cast<std::int64_t>(anyBits());
  return value;
}

}  // namespace jiancang::core::testing
