// The web front-end (storefront, operator console, explorer) as the node serves it: the files
// Vite built, packed by web/scripts/pack.mjs and embedded in the binary. Each file is kept as it
// is and, where that is smaller, gzipped at build time, so a request costs no compression.
// Hashed build assets are cached for a year; pages are revalidated by ETag. A path that names no
// file but belongs to one of the single-page apps gets that app's page (its router takes over).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <api/http_server.h>
#include <core/status.h>

namespace jiancang::api {

class WebAssets {
 public:
  // An empty set: every page answers that the front-end was not built.
  WebAssets() = default;

  // Reads a pack (docs/FORMATS.md, "Web pack"). The files are copied out of `pack`.
  static core::Result<WebAssets> fromPack(std::string_view pack);

  // Whether `path` is the front-end's rather than an API route: anything outside /api/, /media/,
  // /sandbox/ and the operations routes.
  static bool handles(std::string_view path);

  HttpResponse answer(const HttpRequest& request) const;
  std::size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string type;
    std::string body;
    std::string gzipped;  // empty when gzip would not be smaller
    std::string etag;
    bool immutable = false;  // a content-hashed build asset
  };

  const File* find(std::string_view path) const;
  HttpResponse fileResponse(const HttpRequest& request, const File& file) const;

  std::unordered_map<std::string, File> files_;
};

}  // namespace jiancang::api
