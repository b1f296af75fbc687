#include <platform/media.h>

#include <unistd.h>

#include <gtest/gtest.h>
#include <stb_image.h>
#include <stb_image_write.h>
#include <webp/encode.h>
#include <webp/types.h>

#include <platform/testing/databases.h>

namespace jiancang::platform {
namespace {

namespace fs = std::filesystem;
using core::Bytes;

void append(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  out->insert(out->end(), static_cast<std::uint8_t*>(data),
              static_cast<std::uint8_t*>(data) + size);
}

// Test images are drawn here, never taken from anywhere.
std::vector<std::uint8_t> gradient(int width, int height) {
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(width * height * 3));
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      auto* pixel = &pixels[(static_cast<std::size_t>(y) * width + x) * 3];
      pixel[0] = static_cast<std::uint8_t>(x * 255 / width);
      pixel[1] = static_cast<std::uint8_t>(y * 255 / height);
      pixel[2] = 128;
    }
  }
  return pixels;
}

Bytes png(int width, int height) {
  Bytes out;
  auto pixels = gradient(width, height);
  stbi_write_png_to_func(append, &out, width, height, 3, pixels.data(), width * 3);
  return out;
}

Bytes jpeg(int width, int height) {
  Bytes out;
  auto pixels = gradient(width, height);
  stbi_write_jpg_to_func(append, &out, width, height, 3, pixels.data(), 90);
  return out;
}

Bytes webp(int width, int height) {
  auto rgb = gradient(width, height);
  std::vector<std::uint8_t> rgba;
  for (std::size_t i = 0; i < rgb.size(); i += 3) {
    rgba.insert(rgba.end(), {rgb[i], rgb[i + 1], rgb[i + 2], 255});
  }
  std::uint8_t* output = nullptr;
  std::size_t size = WebPEncodeLosslessRGBA(rgba.data(), width, height, width * 4, &output);
  Bytes out(output, output + size);
  WebPFree(output);
  return out;
}

// The smallest GIF: one pixel, a two-colour table, the LZW stream for "colour 0".
const Bytes kGif = {'G', 'I', 'F', '8', '9',  'a',  1,    0,    1,    0, 0x80, 0,
                    0,   0,   0,   0,   0xFF, 0xFF, 0xFF, 0x2C, 0,    0, 0,    0,
                    1,   0,   1,   0,   0,    2,    2,    0x44, 0x01, 0, 0x3B};

Bytes text(std::string_view content) { return {content.begin(), content.end()}; }

Bytes glb(std::uint32_t version, std::int64_t lengthAdjust = 0) {
  std::string json = R"({"asset":{"version":"2.0"}})";
  while (json.size() % 4 != 0) json += ' ';
  Bytes out = text("glTF");
  auto put32 = [&](std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  };
  const auto total = static_cast<std::uint32_t>(12 + 8 + json.size());
  put32(version);
  put32(static_cast<std::uint32_t>(total + lengthAdjust));
  put32(static_cast<std::uint32_t>(json.size()));
  put32(0x4E4F534A);  // "JSON"
  out.insert(out.end(), json.begin(), json.end());
  return out;
}

std::string reasonOf(const Bytes& bytes) { return sniffMediaType(bytes).status().reason(); }

TEST(MediaTypeTest, TypeComesFromTheContent) {
  EXPECT_EQ(sniffMediaType(png(4, 4))->mime, "image/png");
  EXPECT_EQ(sniffMediaType(jpeg(4, 4))->mime, "image/jpeg");
  EXPECT_EQ(sniffMediaType(kGif)->mime, "image/gif");
  EXPECT_EQ(sniffMediaType(text(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)))->mime, "image/webp");
  EXPECT_EQ(sniffMediaType(text(std::string("\0\0\0\x18"
                                            "ftypisom",
                                            12)))
                ->mime,
            "video/mp4");
  EXPECT_EQ(sniffMediaType(text("ID3\x04\0\0\0\0\0\0"))->mime, "audio/mpeg");
  EXPECT_EQ(sniffMediaType(text("\xFF\xFB\x90\x64"))->mime, "audio/mpeg");
  EXPECT_EQ(sniffMediaType(glb(2))->mime, "model/gltf-binary");
  EXPECT_EQ(sniffMediaType(text("%PDF-1.7\n"))->mime, "application/pdf");

  EXPECT_EQ(reasonOf({}), "media-empty");
  EXPECT_EQ(reasonOf(text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script>")),
            "media-svg-refused");
  EXPECT_EQ(reasonOf(text("\xEF\xBB\xBF  \n<?xml version='1.0'?><svg/>")), "media-svg-refused");
  EXPECT_EQ(reasonOf(text("<html><script>alert(1)</script></html>")), "media-svg-refused");
  EXPECT_EQ(reasonOf(text("MZ\x90\0 an executable")), "media-type-unsupported");
  EXPECT_EQ(reasonOf(text("just text that says it is a .png")), "media-type-unsupported");
}

class MediaLibraryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    database_ = testing::freshDatabase(GetParam());
    ASSERT_NE(database_, nullptr);
    ASSERT_TRUE(database_
                    ->transaction([&](SqlSession& session) -> core::Status {
                      auto rows = session.query(
                          "INSERT INTO users (phone, password_hash, roles, created_at) VALUES "
                          "('13800138000', 'x', 2, 0) RETURNING id",
                          {});
                      if (!rows) return rows.status();
                      uploader_ = rows->front().integer(0);
                      return {};
                    })
                    .isOk());
    directory_ = fs::temp_directory_path() /
                 ("jiancang-media-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(directory_);
    store_ = std::make_unique<DiskMediaStore>(directory_);
    library_ = std::make_unique<MediaLibrary>(*database_, *store_, clock_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::int64_t mediaRows() { return testing::countRows(*database_, "SELECT COUNT(*) FROM media"); }

  std::unique_ptr<Database> database_;
  std::int64_t uploader_ = 0;
  fs::path directory_;
  core::ManualClock clock_{core::Timestamp::fromUnixMillis(1'795'435'200'000)};
  std::unique_ptr<DiskMediaStore> store_;
  std::unique_ptr<MediaLibrary> library_;
};

TEST_P(MediaLibraryTest, ImagesAreStoredByHashWithAThumbnail) {
  Bytes image = png(1200, 600);
  auto record = library_->upload(uploader_, image);
  ASSERT_TRUE(record.ok()) << record.status().toString();
  EXPECT_EQ(record->sha256, core::sha256(image));
  EXPECT_EQ(record->mime, "image/png");
  EXPECT_EQ(record->width, 1200);
  EXPECT_EQ(record->height, 600);
  ASSERT_TRUE(record->thumbnail.has_value());
  EXPECT_EQ(*library_->bytes(record->sha256), image);
  EXPECT_TRUE(fs::exists(directory_ / record->sha256.hex().substr(0, 2) / record->sha256.hex()));

  auto thumbnail = library_->bytes(*record->thumbnail);
  ASSERT_TRUE(thumbnail.ok());
  int width = 0;
  int height = 0;
  int channels = 0;
  ASSERT_NE(stbi_info_from_memory(thumbnail->data(), static_cast<int>(thumbnail->size()), &width,
                                  &height, &channels),
            0);
  EXPECT_EQ(width, kThumbnailSide);
  EXPECT_EQ(height, kThumbnailSide / 2);
  EXPECT_EQ(library_->find(*record->thumbnail)->mime, "image/png");

  // The same bytes again: one copy, the first record.
  clock_.set(clock_.now() + std::chrono::hours(1));
  auto again = library_->upload(uploader_, image);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uploadedAt, record->uploadedAt);
  EXPECT_EQ(mediaRows(), 2);  // the image and its thumbnail

  EXPECT_TRUE(library_->upload(uploader_, jpeg(64, 48)).ok());
  auto gif = library_->upload(uploader_, kGif);
  ASSERT_TRUE(gif.ok()) << gif.status().toString();
  EXPECT_EQ(gif->width, 1);
  auto still = library_->upload(uploader_, webp(300, 200));
  ASSERT_TRUE(still.ok()) << still.status().toString();
  EXPECT_EQ(still->mime, "image/webp");
  EXPECT_EQ(still->width, 300);
  EXPECT_TRUE(still->thumbnail.has_value());
  auto model = library_->upload(uploader_, glb(2));
  ASSERT_TRUE(model.ok()) << model.status().toString();
  EXPECT_FALSE(model->thumbnail.has_value());
}

TEST_P(MediaLibraryTest, LiesBombsAndOversizedUploadsAreRefusedAndStoreNothing) {
  // A PNG whose header claims 100,000 x 100,000 pixels: refused before any pixel is decoded.
  Bytes bomb = png(8, 8);
  const std::uint8_t huge[4] = {0x00, 0x01, 0x86, 0xA0};  // 100000, big-endian
  std::copy(huge, huge + 4, bomb.begin() + 16);           // IHDR width
  std::copy(huge, huge + 4, bomb.begin() + 20);           // IHDR height
  EXPECT_EQ(library_->upload(uploader_, bomb).status().reason(), "media-image-too-large");

  Bytes truncated = png(64, 64);
  truncated.resize(truncated.size() / 2);
  EXPECT_EQ(library_->upload(uploader_, truncated).status().reason(), "media-image-corrupt");
  // A GIF header for one pixel, then no image data.
  Bytes fakeGif = text(std::string("GIF89a\x01\0\x01\0\0\0\0;", 14));
  EXPECT_EQ(library_->upload(uploader_, fakeGif).status().reason(), "media-image-corrupt");
  Bytes fakeJpeg = text("\xFF\xD8\xFF not really");
  EXPECT_EQ(library_->upload(uploader_, fakeJpeg).status().reason(), "media-image-corrupt");

  Bytes brokenWebp = webp(32, 32);
  std::fill(brokenWebp.begin() + 30, brokenWebp.end(), 0xA5);
  EXPECT_EQ(library_->upload(uploader_, brokenWebp).status().reason(), "media-image-corrupt");
  EXPECT_EQ(library_->upload(uploader_, glb(1)).status().reason(), "media-model-corrupt");
  EXPECT_EQ(library_->upload(uploader_, glb(2, 4)).status().reason(), "media-model-corrupt");

  Bytes big = text("\x89PNG\r\n\x1A\n");
  big.resize((std::size_t{10} << 20) + 1);
  auto tooLarge = library_->upload(uploader_, big);
  EXPECT_EQ(tooLarge.status().reason(), "media-too-large");
  EXPECT_NE(tooLarge.status().message().find("10 MiB"), std::string::npos);

  EXPECT_EQ(library_->upload(uploader_, text("<svg onload='alert(1)'/>")).status().reason(),
            "media-svg-refused");
  EXPECT_EQ(mediaRows(), 0);
  EXPECT_FALSE(fs::exists(directory_) && !fs::is_empty(directory_));
  EXPECT_EQ(library_->find(core::sha256(bomb)).status().reason(), "no-such-media");
}

INSTANTIATE_TEST_SUITE_P(Both, MediaLibraryTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace jiancang::platform
