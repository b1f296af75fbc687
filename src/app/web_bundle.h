// The web front-end's pack, embedded in the binary by web_bundle.S (empty when the build had
// JIANCANG_WEB=OFF).
#pragma once

#include <string_view>

extern "C" const char jiancang_web_pack_begin[];
extern "C" const char jiancang_web_pack_end[];

namespace jiancang::app {

inline std::string_view embeddedWebPack() {
  return {jiancang_web_pack_begin,
          static_cast<std::size_t>(jiancang_web_pack_end - jiancang_web_pack_begin)};
}

}  // namespace jiancang::app
