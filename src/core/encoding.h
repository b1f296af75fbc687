// The canonical binary encoding: every value has exactly one byte string, and the decoder
// accepts that string and nothing else. Transactions, blocks and state entries are hashed and
// signed in this form, so a second accepted spelling of a value would be a consensus bug.
//
// The rules (docs/FORMATS.md is the reference):
//   unsigned integer  LEB128 varint, shortest form only, at most 64 bits
//   signed integer    zigzag, then as unsigned
//   u8                one byte;  bool: 0x00 or 0x01, nothing else
//   fixed bytes       exactly N raw bytes (N known from the schema)
//   bytes / string    varint length, then the bytes; strings must be valid UTF-8
//   sequence          varint count, then the items
//   optional          0x00 for absent, 0x01 then the value
//   top-level value   one version byte, then the fields; nothing may follow the value
//
// The Reader is "sticky": after the first failure every read returns a zero value and the
// failure is kept, so a decoder reads all its fields and checks once, in finish().
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <core/bytes.h>
#include <core/status.h>

namespace jiancang::core {

class Writer {
 public:
  void u8(std::uint8_t value) { out_.push_back(value); }
  void boolean(bool value) { out_.push_back(value ? 1 : 0); }
  void varint(std::uint64_t value);
  void signedVarint(std::int64_t value);
  // Raw bytes whose length the schema fixes (hashes, keys, signatures).
  void fixed(ByteView bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  // Length-prefixed bytes.
  void bytes(ByteView bytes);
  // Length-prefixed UTF-8. Writing invalid UTF-8 is a bug: validate input before building values.
  void string(std::string_view text);
  // The count before the items of a sequence.
  void count(std::size_t items) { varint(items); }

  const Bytes& data() const { return out_; }
  Bytes take() && { return std::move(out_); }

 private:
  Bytes out_;
};

class Reader {
 public:
  explicit Reader(ByteView input) : input_(input) {}

  std::uint8_t u8();
  bool boolean();
  std::uint64_t varint();
  std::int64_t signedVarint();
  // A varint that must be at most `max`; `what` names the field in the error.
  std::uint64_t varintAtMost(std::uint64_t max, std::string_view what);
  template <std::size_t N, typename Tag>
  FixedBytes<N, Tag> fixed() {
    FixedBytes<N, Tag> value;
    readInto(value.mutableArray());
    return value;
  }
  void readInto(std::span<std::uint8_t> out);
  Bytes bytes(std::size_t maxLength, std::string_view what);
  std::string string(std::size_t maxLength, std::string_view what);
  // A sequence count, at most `maxItems` and never more than the bytes left (every item takes at
  // least one byte), so a decoder may reserve() it without trusting the input.
  std::size_t count(std::size_t maxItems, std::string_view what);
  // Reads the version byte of a top-level value.
  void expectVersion(std::uint8_t version, std::string_view what);

  // Records a failure found by the decoder itself (an unknown enum value, say). The first one wins.
  void fail(Status status);

  bool failed() const { return !status_.isOk(); }
  std::size_t remaining() const { return input_.size() - position_; }
  std::size_t position() const { return position_; }
  // The result of decoding: the first failure, or "decode-trailing-bytes" if input is left.
  Status finish() const;

 private:
  bool take(std::size_t length, std::string_view what);

  ByteView input_;
  std::size_t position_ = 0;
  Status status_;
};

// Checks that `text` is well-formed UTF-8: shortest forms only, no surrogates, at most U+10FFFF.
bool isValidUtf8(std::string_view text);

// A type with a canonical top-level encoding: a version byte, then encodeTo()'s fields.
template <typename T>
concept CanonicallyEncodable = requires(const T& value, Writer& writer, Reader& reader) {
  { T::kEncodingVersion } -> std::convertible_to<std::uint8_t>;
  { T::kEncodingName } -> std::convertible_to<std::string_view>;
  value.encodeTo(writer);
  { T::decodeFrom(reader) } -> std::same_as<T>;
};

template <CanonicallyEncodable T>
Bytes encode(const T& value) {
  Writer writer;
  writer.u8(T::kEncodingVersion);
  value.encodeTo(writer);
  return std::move(writer).take();
}

// Decodes a whole byte string as one T; any failure or leftover byte is an error.
template <CanonicallyEncodable T>
Result<T> decode(ByteView bytes) {
  Reader reader(bytes);
  reader.expectVersion(T::kEncodingVersion, T::kEncodingName);
  T value = T::decodeFrom(reader);
  if (Status status = reader.finish(); !status.isOk()) return status;
  return value;
}

}  // namespace jiancang::core
