// Certificates: a token's ownership and its series' supply, proven under a state root that the
// members signed, in one JSON document anyone can check offline with `jiancang verify` (or in
// the browser), trusting only the members' keys from the chain's genesis. docs/FORMATS.md,
// "Certificates", gives the format.
#pragma once

#include <string>
#include <vector>

#include <ledger/ledger.h>

namespace jiancang::ledger {

inline constexpr std::string_view kCertificateFormat = "jiancang-certificate/1";

// Builds the certificate of `token` at the ledger's head. `awaitSignatures`, if given, is called
// with the proven height before its attestations are read (a consortium member waits there for
// a quorum of members to sign it).
core::Result<std::string> buildCertificate(
    const Ledger& ledger, const chain::TokenId& token,
    const std::function<void(std::uint64_t height)>& awaitSignatures = {});

struct CertificateReport {
  std::string chainId;
  std::string token;  // "12#1"
  std::string owner;
  std::uint64_t height = 0;
  std::vector<std::string> checks;  // what was checked, in order, for people
};

// Checks a certificate document. On failure the status says which check failed and why;
// `report` then holds the checks that passed before it. `expectedChainId` (hex), if not empty,
// pins the chain.
core::Status verifyCertificate(std::string_view document, std::string_view expectedChainId,
                               CertificateReport* report);

}  // namespace jiancang::ledger
