#include <core/encoding.h>

#include <algorithm>

namespace jiancang::core {
namespace {

Status decodeError(std::string reason, std::string message) {
  return invalidArgument(std::move(reason), std::move(message));
}

}  // namespace

void Writer::varint(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(value));
}

void Writer::signedVarint(std::int64_t value) {
  // Zigzag: 0, -1, 1, -2, ... map to 0, 1, 2, 3, ... so small magnitudes stay short.
  auto bits = static_cast<std::uint64_t>(value);
  varint((bits << 1) ^ (value < 0 ? ~std::uint64_t{0} : 0));
}

void Writer::bytes(ByteView bytes) {
  varint(bytes.size());
  fixed(bytes);
}

void Writer::string(std::string_view text) {
  assert(isValidUtf8(text));
  bytes(asBytes(text));
}

bool Reader::take(std::size_t length, std::string_view what) {
  if (failed()) return false;
  if (length > remaining()) {
    fail(decodeError("decode-truncated", std::string(what) + " needs " + std::to_string(length) +
                                             " bytes at offset " + std::to_string(position_) +
                                             ", " + std::to_string(remaining()) + " left"));
    return false;
  }
  return true;
}

std::uint8_t Reader::u8() {
  if (!take(1, "a byte")) return 0;
  return input_[position_++];
}

bool Reader::boolean() {
  std::size_t at = position_;
  std::uint8_t byte = u8();
  if (byte > 1) {
    fail(decodeError("decode-invalid-bool", "byte at offset " + std::to_string(at) + " is " +
                                                std::to_string(byte) + ", not 0 or 1"));
    return false;
  }
  return byte == 1;
}

std::uint64_t Reader::varint() {
  std::size_t start = position_;
  std::uint64_t value = 0;
  for (int shift = 0;; shift += 7) {
    if (!take(1, "a varint")) return 0;
    std::uint8_t byte = input_[position_++];
    std::uint64_t group = byte & 0x7f;
    // The 10th byte may only carry the 64th bit, and must be the last.
    if (shift == 63 && byte > 1) {
      fail(decodeError("decode-varint-overflow",
                       "varint at offset " + std::to_string(start) + " exceeds 64 bits"));
      return 0;
    }
    value |= group << shift;
    if ((byte & 0x80) == 0) {
      // A final zero group after the first byte means a shorter spelling existed.
      if (byte == 0 && shift > 0) {
        fail(decodeError("decode-non-minimal-varint",
                         "varint at offset " + std::to_string(start) + " is not in shortest form"));
        return 0;
      }
      return value;
    }
  }
}

std::int64_t Reader::signedVarint() {
  std::uint64_t zigzag = varint();
  return static_cast<std::int64_t>((zigzag >> 1) ^ (~(zigzag & 1) + 1));
}

std::uint64_t Reader::varintAtMost(std::uint64_t max, std::string_view what) {
  std::size_t at = position_;
  std::uint64_t value = varint();
  if (value > max) {
    fail(decodeError("decode-value-out-of-range",
                     std::string(what) + " at offset " + std::to_string(at) + " is " +
                         std::to_string(value) + ", above the maximum " + std::to_string(max)));
    return 0;
  }
  return value;
}

void Reader::readInto(std::span<std::uint8_t> out) {
  if (!take(out.size(), "a fixed-size field")) {
    std::fill(out.begin(), out.end(), 0);
    return;
  }
  std::copy_n(input_.begin() + static_cast<std::ptrdiff_t>(position_), out.size(), out.begin());
  position_ += out.size();
}

Bytes Reader::bytes(std::size_t maxLength, std::string_view what) {
  std::size_t at = position_;
  std::uint64_t length = varint();
  if (failed()) return {};
  if (length > maxLength) {
    fail(decodeError("decode-length-too-large",
                     std::string(what) + " at offset " + std::to_string(at) + " declares " +
                         std::to_string(length) + " bytes, the limit is " +
                         std::to_string(maxLength)));
    return {};
  }
  if (!take(length, what)) return {};
  auto begin = input_.begin() + static_cast<std::ptrdiff_t>(position_);
  position_ += length;
  return Bytes(begin, begin + static_cast<std::ptrdiff_t>(length));
}

std::string Reader::string(std::size_t maxLength, std::string_view what) {
  std::size_t at = position_;
  Bytes raw = bytes(maxLength, what);
  std::string text(raw.begin(), raw.end());
  if (!failed() && !isValidUtf8(text)) {
    fail(decodeError("decode-invalid-utf8", std::string(what) + " at offset " + std::to_string(at) +
                                                " is not valid UTF-8"));
    return {};
  }
  return text;
}

std::size_t Reader::count(std::size_t maxItems, std::string_view what) {
  std::size_t at = position_;
  std::uint64_t items = varint();
  if (failed()) return 0;
  if (items > maxItems) {
    fail(decodeError("decode-too-many-items", std::string(what) + " at offset " +
                                                  std::to_string(at) + " declares " +
                                                  std::to_string(items) + " items, the limit is " +
                                                  std::to_string(maxItems)));
    return 0;
  }
  if (items > remaining()) {
    fail(decodeError("decode-truncated", std::string(what) + " declares " + std::to_string(items) +
                                             " items but only " + std::to_string(remaining()) +
                                             " bytes are left"));
    return 0;
  }
  return static_cast<std::size_t>(items);
}

void Reader::expectVersion(std::uint8_t version, std::string_view what) {
  if (!take(1, what)) return;
  std::uint8_t found = input_[position_++];
  if (found != version) {
    fail(decodeError("decode-unknown-version",
                     std::string(what) + " has encoding version " + std::to_string(found) +
                         ", this build reads version " + std::to_string(version)));
  }
}

void Reader::fail(Status status) {
  if (!failed()) status_ = std::move(status);
}

Status Reader::finish() const {
  if (failed()) return status_;
  if (remaining() != 0) {
    return decodeError("decode-trailing-bytes", std::to_string(remaining()) +
                                                    " bytes follow the value at offset " +
                                                    std::to_string(position_));
  }
  return {};
}

bool isValidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<std::uint8_t>(text[i]);
    std::size_t length = 0;
    std::uint32_t codePoint = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      codePoint = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      codePoint = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      codePoint = lead & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      auto continuation = static_cast<std::uint8_t>(text[i + k]);
      if ((continuation & 0xc0) != 0x80) return false;
      codePoint = codePoint << 6 | (continuation & 0x3f);
    }
    static constexpr std::uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codePoint < kShortest[length]) return false;               // overlong
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) return false;  // surrogate
    if (codePoint > 0x10ffff) return false;
    i += length;
  }
  return true;
}

}  // namespace jiancang::core
