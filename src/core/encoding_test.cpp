#include <core/encoding.h>

#include <limits>
#include <random>

#include <gtest/gtest.h>

#include <core/testing/specimen.h>

namespace jiancang::core {
namespace {

using testing::Specimen;

Bytes varintBytes(std::uint64_t value) {
  Writer writer;
  writer.varint(value);
  return writer.data();
}

Bytes signedBytes(std::int64_t value) {
  Writer writer;
  writer.signedVarint(value);
  return writer.data();
}

// Reads one varint from `input` and returns the failure reason, or "" on success.
std::string varintReason(const Bytes& input) {
  Reader reader(input);
  (void)reader.varint();
  return reader.finish().reason();
}

TEST(VarintTest, KnownEncodings) {
  EXPECT_EQ(varintBytes(0), (Bytes{0x00}));
  EXPECT_EQ(varintBytes(127), (Bytes{0x7f}));
  EXPECT_EQ(varintBytes(128), (Bytes{0x80, 0x01}));
  EXPECT_EQ(varintBytes(300), (Bytes{0xac, 0x02}));
  Bytes max(9, 0xff);
  max.push_back(0x01);
  EXPECT_EQ(varintBytes(std::numeric_limits<std::uint64_t>::max()), max);
}

TEST(VarintTest, RoundTripsBoundaries) {
  for (int bits = 0; bits <= 64; ++bits) {
    for (std::int64_t delta : {-1, 0, 1}) {
      std::uint64_t value =
          (bits == 64 ? 0 : std::uint64_t{1} << bits) + static_cast<std::uint64_t>(delta);
      Bytes encoded = varintBytes(value);
      Reader reader(encoded);
      EXPECT_EQ(reader.varint(), value);
      EXPECT_TRUE(reader.finish().isOk());
    }
  }
}

TEST(VarintTest, RejectsNonMinimalForms) {
  EXPECT_EQ(varintReason({0x80, 0x00}), "decode-non-minimal-varint");
  EXPECT_EQ(varintReason({0xff, 0x80, 0x00}), "decode-non-minimal-varint");
  EXPECT_EQ(varintReason({0x81, 0x00}), "decode-non-minimal-varint");
}

TEST(VarintTest, RejectsOverflowAndTruncation) {
  Bytes tooBig(9, 0xff);
  tooBig.push_back(0x02);
  EXPECT_EQ(varintReason(tooBig), "decode-varint-overflow");
  Bytes eleven(10, 0xff);
  eleven.push_back(0x01);
  EXPECT_EQ(varintReason(eleven), "decode-varint-overflow");
  // A 10th byte of 0x81 carries a valid 64th bit but says more bytes follow.
  Bytes continued(9, 0xff);
  continued.push_back(0x81);
  continued.push_back(0x01);
  EXPECT_EQ(varintReason(continued), "decode-varint-overflow");
  EXPECT_EQ(varintReason({0x80}), "decode-truncated");
  EXPECT_EQ(varintReason({}), "decode-truncated");
}

TEST(SignedVarintTest, ZigzagKnownEncodingsAndExtremes) {
  EXPECT_EQ(signedBytes(0), (Bytes{0x00}));
  EXPECT_EQ(signedBytes(-1), (Bytes{0x01}));
  EXPECT_EQ(signedBytes(1), (Bytes{0x02}));
  EXPECT_EQ(signedBytes(-64), (Bytes{0x7f}));
  for (std::int64_t value : {std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max(), std::int64_t{-300}}) {
    Bytes encoded = signedBytes(value);
    Reader reader(encoded);
    EXPECT_EQ(reader.signedVarint(), value);
    EXPECT_TRUE(reader.finish().isOk());
  }
}

TEST(ReaderTest, RejectsInvalidBool) {
  Bytes input{0x02};
  Reader reader(input);
  EXPECT_FALSE(reader.boolean());
  EXPECT_EQ(reader.finish().reason(), "decode-invalid-bool");
}

TEST(ReaderTest, RejectsOverLongLengths) {
  Bytes declaredTooBig{0x05, 1, 2, 3, 4, 5};
  Reader tooBig(declaredTooBig);
  (void)tooBig.bytes(4, "blob");
  EXPECT_EQ(tooBig.finish().reason(), "decode-length-too-large");

  Bytes declaredPastEnd{0x05, 1, 2};
  Reader pastEnd(declaredPastEnd);
  (void)pastEnd.bytes(100, "blob");
  EXPECT_EQ(pastEnd.finish().reason(), "decode-truncated");

  Bytes huge = varintBytes(std::uint64_t{1} << 62);
  Reader hugeReader(huge);
  (void)hugeReader.bytes(std::numeric_limits<std::size_t>::max(), "blob");
  EXPECT_EQ(hugeReader.finish().reason(), "decode-truncated");
}

TEST(ReaderTest, RejectsCountsBeyondLimitOrInput) {
  Bytes overLimit{0x09};
  Reader limit(overLimit);
  EXPECT_EQ(limit.count(8, "list"), 0u);
  EXPECT_EQ(limit.finish().reason(), "decode-too-many-items");

  Bytes overInput{0x03, 0x01};
  Reader input(overInput);
  EXPECT_EQ(input.count(1000, "list"), 0u);
  EXPECT_EQ(input.finish().reason(), "decode-truncated");
}

TEST(ReaderTest, RangeChecksVarints) {
  Bytes input = varintBytes(3001);
  Reader reader(input);
  (void)reader.varintAtMost(3000, "royalty");
  EXPECT_EQ(reader.finish().reason(), "decode-value-out-of-range");
}

TEST(ReaderTest, FirstFailureWinsAndLaterReadsAreZero) {
  Bytes input{0x02, 0x05};
  Reader reader(input);
  (void)reader.boolean();
  EXPECT_EQ(reader.varint(), 0u);
  EXPECT_EQ(reader.finish().reason(), "decode-invalid-bool");
}

TEST(Utf8Test, AcceptsValidText) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("鉴藏 digital collection #0001/8888"));
  EXPECT_TRUE(isValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_TRUE(isValidUtf8("😀"));
}

TEST(Utf8Test, RejectsMalformedText) {
  EXPECT_FALSE(isValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(isValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(isValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xff"));
  EXPECT_FALSE(isValidUtf8("\xe9\x89"));  // truncated
  EXPECT_FALSE(isValidUtf8("\x80"));      // lone continuation
}

TEST(ReaderTest, RejectsInvalidUtf8String) {
  Bytes input{0x02, 0xc0, 0xaf};
  Reader reader(input);
  (void)reader.string(10, "title");
  EXPECT_EQ(reader.finish().reason(), "decode-invalid-utf8");
}

TEST(TopLevelTest, RejectsTrailingBytesAndWrongVersion) {
  Specimen value;
  value.text = "ok";
  Bytes encoded = encode(value);
  ASSERT_TRUE(decode<Specimen>(encoded).ok());

  Bytes trailing = encoded;
  trailing.push_back(0x00);
  EXPECT_EQ(decode<Specimen>(trailing).status().reason(), "decode-trailing-bytes");

  Bytes wrongVersion = encoded;
  wrongVersion[0] = Specimen::kEncodingVersion + 1;
  EXPECT_EQ(decode<Specimen>(wrongVersion).status().reason(), "decode-unknown-version");

  EXPECT_EQ(decode<Specimen>(Bytes{}).status().reason(), "decode-truncated");
}

TEST(TopLevelTest, EveryTruncationIsRejected) {
  std::mt19937_64 random(7);
  Bytes encoded = encode(testing::randomSpecimen(random));
  for (std::size_t length = 0; length < encoded.size(); ++length) {
    Bytes prefix(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(length));
    EXPECT_EQ(decode<Specimen>(prefix).status().reason(), "decode-truncated") << length;
  }
}

// Property: random values survive encode → decode unchanged.
TEST(EncodingPropertyTest, RandomValuesRoundTrip) {
  std::mt19937_64 random(20261121);
  for (int i = 0; i < 20'000; ++i) {
    Specimen value = testing::randomSpecimen(random);
    Bytes encoded = encode(value);
    auto decoded = decode<Specimen>(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().toString();
    ASSERT_EQ(*decoded, value);
  }
}

// Property: one byte string per value. Any mutation the decoder accepts must re-encode to
// exactly the mutated bytes; otherwise two spellings of one value would both be accepted.
TEST(EncodingPropertyTest, AcceptedBytesAreCanonical) {
  std::mt19937_64 random(11);
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    Bytes bytes = encode(testing::randomSpecimen(random));
    int mutations = 1 + static_cast<int>(random() % 3);
    for (int m = 0; m < mutations; ++m) {
      std::size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<std::uint8_t>(random());
          break;
        case 1:
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                       static_cast<std::uint8_t>(random()));
          break;
        default:
          bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
          break;
      }
      if (bytes.empty()) bytes.push_back(Specimen::kEncodingVersion);
    }
    auto decoded = decode<Specimen>(bytes);
    if (!decoded.ok()) continue;
    ++accepted;
    ASSERT_EQ(encode(*decoded), bytes);
  }
  // The mutations must leave some inputs valid, or this test checks nothing.
  EXPECT_GT(accepted, 1000);
}

}  // namespace
}  // namespace jiancang::core
