#include <platform/media.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
#include <webp/decode.h>

namespace jiancang::platform {
namespace {

using core::ErrorCode;
using core::Status;

constexpr std::size_t kMiB = std::size_t{1} << 20;

bool startsWith(core::ByteView bytes, std::string_view prefix, std::size_t at = 0) {
  return bytes.size() >= at + prefix.size() &&
         std::memcmp(bytes.data() + at, prefix.data(), prefix.size()) == 0;
}

std::uint32_t littleEndian32(core::ByteView bytes, std::size_t at) {
  return static_cast<std::uint32_t>(bytes[at]) | static_cast<std::uint32_t>(bytes[at + 1]) << 8 |
         static_cast<std::uint32_t>(bytes[at + 2]) << 16 |
         static_cast<std::uint32_t>(bytes[at + 3]) << 24;
}

// Markup at the start (after a byte-order mark and white space): an SVG or another XML/HTML
// document, which a browser could run scripts from.
bool looksLikeMarkup(core::ByteView bytes) {
  std::size_t at = startsWith(bytes, "\xEF\xBB\xBF") ? 3 : 0;
  while (at < bytes.size() && std::isspace(bytes[at]) != 0) ++at;
  return at < bytes.size() && bytes[at] == '<';
}

Status refuse(std::string reason, std::string message) {
  return core::invalidArgument(std::move(reason), std::move(message));
}

void appendBytes(void* context, void* data, int size) {
  auto* out = static_cast<core::Bytes*>(context);
  const auto* begin = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), begin, begin + size);
}

struct DecodedImage {
  int width = 0;
  int height = 0;
  core::Bytes thumbnailPng;
};

// Decodes within the limits and makes the thumbnail. The pixel count is known from the header
// before a single pixel is decoded, so a small file claiming a huge image costs nothing.
core::Result<DecodedImage> decodeImage(core::ByteView bytes) {
  int width = 0;
  int height = 0;
  int channels = 0;
  const int length = static_cast<int>(bytes.size());
  // PNG and GIF state their size at fixed places; read it here, since stb answers a header it
  // finds too large only with "unknown image type".
  if (startsWith(bytes, "\x89PNG") && bytes.size() >= 24) {
    auto bigEndian = [&](std::size_t at) {
      return static_cast<std::uint32_t>(bytes[at]) << 24 |
             static_cast<std::uint32_t>(bytes[at + 1]) << 16 |
             static_cast<std::uint32_t>(bytes[at + 2]) << 8 | bytes[at + 3];
    };
    width = static_cast<int>(std::min<std::uint32_t>(bigEndian(16), 1u << 30));
    height = static_cast<int>(std::min<std::uint32_t>(bigEndian(20), 1u << 30));
  } else if (startsWith(bytes, "GIF") && bytes.size() >= 10) {
    width = bytes[6] | bytes[7] << 8;
    height = bytes[8] | bytes[9] << 8;
  } else if (startsWith(bytes, "RIFF")) {
    if (WebPGetInfo(bytes.data(), bytes.size(), &width, &height) == 0) {
      return refuse("media-image-corrupt", "the WebP image's header does not decode");
    }
  } else if (stbi_info_from_memory(bytes.data(), length, &width, &height, &channels) == 0) {
    return refuse("media-image-corrupt", "the image does not decode as what its signature says");
  }
  if (width <= 0 || height <= 0 || width > kMaxImageSide || height > kMaxImageSide ||
      static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height) > kMaxImagePixels) {
    return refuse("media-image-too-large",
                  "the image is " + std::to_string(width) + "x" + std::to_string(height) +
                      " pixels; at most " + std::to_string(kMaxImagePixels / 1'000'000) +
                      " megapixels and " + std::to_string(kMaxImageSide) + " per side");
  }
  DecodedImage image{width, height, {}};
  std::unique_ptr<std::uint8_t, void (*)(void*)> pixels(nullptr, stbi_image_free);
  if (startsWith(bytes, "RIFF")) {
    pixels = std::unique_ptr<std::uint8_t, void (*)(void*)>(
        WebPDecodeRGBA(bytes.data(), bytes.size(), &width, &height), WebPFree);
    // An animated WebP (VP8X with its animation flag) needs a demuxer to decode; it is accepted
    // as it is, without a thumbnail.
    const bool animated =
        startsWith(bytes, "VP8X", 12) && bytes.size() > 20 && (bytes[20] & 0x02) != 0;
    if (!pixels && animated) return image;
    if (!pixels) return refuse("media-image-corrupt", "the WebP image does not decode");
  } else {
    pixels = std::unique_ptr<std::uint8_t, void (*)(void*)>(
        stbi_load_from_memory(bytes.data(), length, &width, &height, &channels, 4),
        stbi_image_free);
    if (!pixels) {
      return refuse("media-image-corrupt",
                    std::string("the image does not decode: ") + stbi_failure_reason());
    }
  }
  const double scale = std::min(1.0, static_cast<double>(kThumbnailSide) / std::max(width, height));
  const int thumbWidth = std::max(1, static_cast<int>(width * scale));
  const int thumbHeight = std::max(1, static_cast<int>(height * scale));
  std::vector<stbi_uc> thumbnail(static_cast<std::size_t>(thumbWidth) *
                                 static_cast<std::size_t>(thumbHeight) * 4);
  if (stbir_resize_uint8(pixels.get(), width, height, 0, thumbnail.data(), thumbWidth, thumbHeight,
                         0, 4) == 0 ||
      stbi_write_png_to_func(appendBytes, &image.thumbnailPng, thumbWidth, thumbHeight, 4,
                             thumbnail.data(), thumbWidth * 4) == 0) {
    return Status(ErrorCode::kInternal, "thumbnail-failed", "the thumbnail could not be made");
  }
  return image;
}

constexpr const char* kMediaColumns =
    "sha256, mime, kind, size, width, height, thumbnail, uploaded_by, uploaded_at";

MediaRecord readRecord(const SqlRow& row) {
  MediaRecord record;
  if (auto hash = core::Hash256::fromView(row.bytes(0))) record.sha256 = *hash;
  record.mime = row.text(1);
  record.kind = static_cast<MediaKind>(row.integer(2));
  record.size = row.integer(3);
  record.width = static_cast<int>(row.integer(4));
  record.height = static_cast<int>(row.integer(5));
  if (!row.isNull(6)) record.thumbnail = core::Hash256::fromView(row.bytes(6));
  record.uploadedBy = row.integer(7);
  record.uploadedAt = core::Timestamp::fromUnixMillis(row.integer(8));
  return record;
}

core::Bytes bytesOf(const core::Hash256& hash) { return {hash.view().begin(), hash.view().end()}; }

}  // namespace

core::Result<MediaType> sniffMediaType(core::ByteView bytes) {
  if (bytes.empty()) return refuse("media-empty", "the upload is empty");
  if (startsWith(bytes, "\x89PNG\r\n\x1A\n"))
    return MediaType{"image/png", MediaKind::kImage, 10 * kMiB};
  if (startsWith(bytes, "\xFF\xD8\xFF"))
    return MediaType{"image/jpeg", MediaKind::kImage, 10 * kMiB};
  if (startsWith(bytes, "GIF87a") || startsWith(bytes, "GIF89a")) {
    return MediaType{"image/gif", MediaKind::kImage, 20 * kMiB};
  }
  if (startsWith(bytes, "RIFF") && startsWith(bytes, "WEBP", 8)) {
    return MediaType{"image/webp", MediaKind::kImage, 20 * kMiB};
  }
  if (startsWith(bytes, "ftyp", 4)) return MediaType{"video/mp4", MediaKind::kVideo, 64 * kMiB};
  // MP3: an ID3 tag, or an MPEG-1/2 Layer III frame sync.
  if (startsWith(bytes, "ID3") ||
      (bytes.size() >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE6) == 0xE2)) {
    return MediaType{"audio/mpeg", MediaKind::kAudio, 20 * kMiB};
  }
  if (startsWith(bytes, "glTF"))
    return MediaType{"model/gltf-binary", MediaKind::kModel, 32 * kMiB};
  if (startsWith(bytes, "%PDF-"))
    return MediaType{"application/pdf", MediaKind::kDocument, 20 * kMiB};
  if (looksLikeMarkup(bytes)) {
    return refuse("media-svg-refused",
                  "SVG, HTML and XML are not accepted: they can carry scripts; upload PNG or WebP");
  }
  return refuse("media-type-unsupported",
                "accepted: PNG, JPEG, GIF, WebP, MP4, MP3, glTF binary (.glb) and PDF");
}

std::filesystem::path DiskMediaStore::pathOf(const core::Hash256& sha256) const {
  std::string hex = sha256.hex();
  return directory_ / hex.substr(0, 2) / hex;
}

Status DiskMediaStore::put(const core::Hash256& sha256, core::ByteView bytes) {
  const std::filesystem::path target = pathOf(sha256);
  std::error_code error;
  if (std::filesystem::exists(target, error)) return {};  // content-addressed: already there
  std::filesystem::create_directories(target.parent_path(), error);
  const std::filesystem::path temporary = target.string() + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status(ErrorCode::kIoError, "media-write", "cannot write " + temporary.string());
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    ssize_t got = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (got <= 0) break;
    written += static_cast<std::size_t>(got);
  }
  bool ok = written == bytes.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (ok) ok = ::rename(temporary.c_str(), target.c_str()) == 0;
  if (!ok) {
    ::unlink(temporary.c_str());
    return Status(ErrorCode::kIoError, "media-write", "cannot store " + target.string());
  }
  return {};
}

core::Result<core::Bytes> DiskMediaStore::get(const core::Hash256& sha256) const {
  std::ifstream in(pathOf(sha256), std::ios::binary);
  if (!in) return core::notFound("no-such-media", "there is no media " + sha256.hex());
  std::stringstream text;
  text << in.rdbuf();
  std::string data = text.str();
  return core::Bytes(data.begin(), data.end());
}

core::Result<MediaRecord> MediaLibrary::upload(std::int64_t uploaderId, core::ByteView bytes) {
  auto type = sniffMediaType(bytes);
  if (!type) return type.status();
  if (bytes.size() > type->maxBytes) {
    return Status(
        ErrorCode::kInvalidArgument, "media-too-large",
        type->mime + " uploads are at most " + std::to_string(type->maxBytes / kMiB) + " MiB");
  }
  MediaRecord record;
  record.sha256 = core::sha256(bytes);
  record.mime = type->mime;
  record.kind = type->kind;
  record.size = static_cast<std::int64_t>(bytes.size());
  record.uploadedBy = uploaderId;
  record.uploadedAt = clock_.now();
  core::Bytes thumbnailPng;
  if (type->kind == MediaKind::kImage) {
    auto image = decodeImage(bytes);
    if (!image) return image.status();
    record.width = image->width;
    record.height = image->height;
    thumbnailPng = std::move(image->thumbnailPng);
    if (!thumbnailPng.empty()) record.thumbnail = core::sha256(thumbnailPng);
  } else if (type->kind == MediaKind::kModel) {
    // glTF 2 binary: magic, version 2, and a total length that is the file's.
    if (bytes.size() < 12 || littleEndian32(bytes, 4) != 2 ||
        littleEndian32(bytes, 8) != bytes.size()) {
      return refuse("media-model-corrupt", "the file is not a glTF 2.0 binary (.glb)");
    }
  }
  // Bytes first, then the rows: a row never names bytes that are not stored.
  if (Status stored = store_.put(record.sha256, bytes); !stored.isOk()) return stored;
  if (record.thumbnail) {
    if (Status stored = store_.put(*record.thumbnail, thumbnailPng); !stored.isOk()) return stored;
  }
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto insert = [&](const MediaRecord& row) {
      return session
          .execute(std::string("INSERT INTO media (") + kMediaColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                   {bytesOf(row.sha256), row.mime, std::int64_t{static_cast<int>(row.kind)},
                    row.size, std::int64_t{row.width}, std::int64_t{row.height},
                    row.thumbnail ? SqlValue(bytesOf(*row.thumbnail)) : SqlValue(), row.uploadedBy,
                    row.uploadedAt.unixMillis()})
          .status();
    };
    if (record.thumbnail) {
      MediaRecord thumbnail;
      thumbnail.sha256 = *record.thumbnail;
      thumbnail.mime = "image/png";
      thumbnail.size = static_cast<std::int64_t>(thumbnailPng.size());
      thumbnail.uploadedBy = uploaderId;
      thumbnail.uploadedAt = record.uploadedAt;
      if (Status inserted = insert(thumbnail); !inserted.isOk()) return inserted;
    }
    return insert(record);
  });
  if (!status.isOk()) return status;
  return find(record.sha256);  // the first upload's record, if this was a repeat
}

core::Result<MediaRecord> MediaLibrary::find(const core::Hash256& sha256) {
  std::optional<MediaRecord> found;
  Status status = database_.transaction([&](SqlSession& session) -> Status {
    auto rows = session.query(
        std::string("SELECT ") + kMediaColumns + " FROM media WHERE sha256 = ?", {bytesOf(sha256)});
    if (!rows) return rows.status();
    if (!rows->empty()) found = readRecord(rows->front());
    return {};
  });
  if (!status.isOk()) return status;
  if (!found) return core::notFound("no-such-media", "there is no media " + sha256.hex());
  return *found;
}

}  // namespace jiancang::platform
