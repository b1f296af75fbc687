// Small helpers for writing chain values in the canonical encoding.
#pragma once

#include <core/encoding.h>
#include <core/money.h>

#include <chain/types.h>

namespace jiancang::chain::codec {

template <typename Fixed>
Fixed readFixed(core::Reader& reader) {
  Fixed value;
  reader.readInto(value.mutableArray());
  return value;
}

inline void writeTime(core::Writer& writer, Timestamp time) {
  writer.signedVarint(time.unixMillis());
}
inline Timestamp readTime(core::Reader& reader) {
  return Timestamp::fromUnixMillis(reader.signedVarint());
}
inline void writeFen(core::Writer& writer, Fen amount) { writer.signedVarint(amount.value()); }
inline Fen readFen(core::Reader& reader) { return Fen(reader.signedVarint()); }

template <typename Id>
void writeId(core::Writer& writer, Id id) {
  writer.varint(id.value());
}
template <typename Id>
Id readId(core::Reader& reader) {
  return Id(reader.varint());
}

template <typename T>
void writeList(core::Writer& writer, const std::vector<T>& items) {
  writer.count(items.size());
  for (const T& item : items) item.encodeTo(writer);
}
template <typename T>
std::vector<T> readList(core::Reader& reader, std::size_t maxItems, std::string_view what) {
  std::size_t count = reader.count(maxItems, what);
  std::vector<T> items;
  items.reserve(count);
  for (std::size_t i = 0; i < count && !reader.failed(); ++i)
    items.push_back(T::decodeFrom(reader));
  return items;
}

template <typename Integer>
void writeIntegers(core::Writer& writer, const std::vector<Integer>& items) {
  writer.count(items.size());
  for (Integer item : items) writer.varint(item);
}
template <typename Integer>
std::vector<Integer> readIntegers(core::Reader& reader, std::size_t maxItems,
                                  std::string_view what) {
  std::size_t count = reader.count(maxItems, what);
  std::vector<Integer> items;
  items.reserve(count);
  for (std::size_t i = 0; i < count && !reader.failed(); ++i) {
    items.push_back(
        static_cast<Integer>(reader.varintAtMost(std::numeric_limits<Integer>::max(), what)));
  }
  return items;
}

template <typename Enum>
Enum readEnum(core::Reader& reader, std::uint64_t first, std::uint64_t last,
              std::string_view what) {
  std::size_t at = reader.position();
  std::uint64_t value = reader.varint();
  if (!reader.failed() && (value < first || value > last)) {
    reader.fail(core::invalidArgument(
        "decode-unknown-enum",
        std::string(what) + " at offset " + std::to_string(at) + " is " + std::to_string(value)));
    return static_cast<Enum>(first);
  }
  return static_cast<Enum>(value);
}

}  // namespace jiancang::chain::codec
