// Media: the works themselves (images, animations, video, audio, 3D models) and the documents
// that authorise them. Uploads are untrusted: the type comes from the content's own signature,
// never from a name or a header; each type has a size limit; images are decoded (within pixel
// limits, against decompression bombs) before they are accepted, and get a PNG thumbnail (stb
// for PNG, JPEG and GIF; libwebp for WebP).
// Everything is stored content-addressed by SHA-256, so a series' media hash on chain names
// exactly the bytes served, and the same file uploaded twice is stored once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <core/bytes.h>
#include <core/clock.h>
#include <core/hash.h>
#include <core/status.h>
#include <platform/database.h>

namespace jiancang::platform {

enum class MediaKind : std::uint8_t { kImage, kVideo, kAudio, kModel, kDocument };

struct MediaType {
  std::string mime;  // "image/png", "model/gltf-binary", ...
  MediaKind kind = MediaKind::kImage;
  std::size_t maxBytes = 0;
};

// The largest upload any type allows (the HTTP route's body limit).
constexpr std::size_t kMaxMediaBytes = std::size_t{64} << 20;
// Images: at most this many pixels, and this long a side, before anything is decoded.
constexpr std::uint64_t kMaxImagePixels = 40'000'000;
constexpr int kMaxImageSide = 16'384;
constexpr int kThumbnailSide = 480;

// The type of `bytes` from their signature. Reasons: "media-empty", "media-svg-refused" (SVG can
// carry scripts), "media-type-unsupported".
core::Result<MediaType> sniffMediaType(core::ByteView bytes);

// Where media bytes live, by SHA-256. An object store can implement it.
class MediaStore {
 public:
  virtual ~MediaStore() = default;
  virtual core::Status put(const core::Hash256& sha256, core::ByteView bytes) = 0;
  virtual core::Result<core::Bytes> get(const core::Hash256& sha256) const = 0;
};

// Files under a directory: `<dir>/<first two hex digits>/<hex>`, written to a temporary name,
// synced, then renamed, so a crash never leaves a partial file under a real name.
class DiskMediaStore final : public MediaStore {
 public:
  explicit DiskMediaStore(std::filesystem::path directory) : directory_(std::move(directory)) {}
  core::Status put(const core::Hash256& sha256, core::ByteView bytes) override;
  core::Result<core::Bytes> get(const core::Hash256& sha256) const override;

 private:
  std::filesystem::path pathOf(const core::Hash256& sha256) const;
  std::filesystem::path directory_;
};

struct MediaRecord {
  core::Hash256 sha256;
  std::string mime;
  MediaKind kind = MediaKind::kImage;
  std::int64_t size = 0;
  int width = 0;  // images only
  int height = 0;
  std::optional<core::Hash256> thumbnail;  // every image but an animated WebP
  std::int64_t uploadedBy = 0;
  core::Timestamp uploadedAt;
};

class MediaLibrary {
 public:
  MediaLibrary(Database& database, MediaStore& store, const core::Clock& clock)
      : database_(database), store_(store), clock_(clock) {}

  // Checks, stores and records an upload. Reasons: those of sniffMediaType, "media-too-large",
  // "media-image-too-large" (pixels or sides over the limits), "media-image-corrupt" (does not
  // decode as what its signature says), "media-model-corrupt" (not a glTF 2 binary).
  core::Result<MediaRecord> upload(std::int64_t uploaderId, core::ByteView bytes);
  // The record of an upload, or "no-such-media".
  core::Result<MediaRecord> find(const core::Hash256& sha256);
  core::Result<core::Bytes> bytes(const core::Hash256& sha256) const { return store_.get(sha256); }

 private:
  Database& database_;
  MediaStore& store_;
  const core::Clock& clock_;
};

}  // namespace jiancang::platform
