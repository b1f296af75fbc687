// `jiancang up --demo`: a living platform on first start. A demo issuer with its licence on
// chain; three published series whose works jiancang makes itself (a still landscape, an
// animation, a 3D vessel) and a blind box over them with its odds on chain; a drop on sale now,
// one counting down, one for the 3D work and one for the blind box;
// announcements; demo accounts to try every role with, the collector holding an airdropped copy.
// Seeded once: a later start with
// --demo finds the demo issuer and changes nothing.
#pragma once

#include <string>
#include <vector>

#include <core/clock.h>
#include <platform/accounts.h>
#include <platform/catalog.h>
#include <platform/drops.h>
#include <platform/media.h>
#include <platform/support.h>

namespace jiancang::app {

struct DemoAccount {
  std::string role;  // for people: "issuer", "reviewer", "collector"
  std::string phone;
  std::string password;
};

struct DemoPlatform {
  platform::Accounts& accounts;
  platform::MediaLibrary& media;
  platform::Catalog& catalog;
  platform::Drops& drops;
  platform::Support& support;
  const core::Clock& clock;
  std::string operatorPhone;
};

// Seeds the demo if it is not there yet; the demo accounts either way. `progress` is told each
// step, for the console.
core::Result<std::vector<DemoAccount>> seedDemo(
    DemoPlatform platform, const std::function<void(std::string_view)>& progress);

}  // namespace jiancang::app
