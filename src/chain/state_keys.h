// The state's key schema: one prefix byte per record kind, then fixed-width big-endian ids, so
// keys of a kind sort by id. docs/FORMATS.md lists them.
#pragma once

#include <chain/types.h>

namespace jiancang::chain::state_keys {

Bytes account(const Address& address);                          // 'a' ‖ address
Bytes issuer(const Address& address);                           // 'i' ‖ address
Bytes series(SeriesId series);                                  // 's' ‖ id
Bytes token(const TokenId& token);                              // 't' ‖ series ‖ serial
Bytes blindBox(SeriesId boxSeries);                             // 'b' ‖ box series
Bytes boxAssignment(SeriesId boxSeries, std::uint64_t serial);  // 'x' ‖ box series ‖ serial
Bytes lottery(LotteryId lottery);                               // 'l' ‖ id
Bytes recipe(RecipeId recipe);                                  // 'r' ‖ id
Bytes consortium();                                             // 'm'
Bytes chainHead();                                              // 'h'
Bytes blockHash(std::uint64_t height);                          // 'k' ‖ height
Bytes usedPaymentReference(const Hash256& referenceHash);       // 'p' ‖ hash
Bytes usedConsent(const Hash256& consentHash);                  // 'c' ‖ hash

// The token a token key names, or nothing if `key` is not a token key.
std::optional<TokenId> parseTokenKey(ByteView key);

}  // namespace jiancang::chain::state_keys
