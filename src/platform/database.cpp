#include <cassert>

#include <platform/database.h>

namespace jiancang::platform {

bool SqlRow::isNull(std::size_t column) const {
  assert(column < values_.size());
  return std::holds_alternative<std::monostate>(values_[column]);
}

std::int64_t SqlRow::integer(std::size_t column) const {
  assert(column < values_.size());
  if (isNull(column)) return 0;
  assert(std::holds_alternative<std::int64_t>(values_[column]));
  return std::get<std::int64_t>(values_[column]);
}

const std::string& SqlRow::text(std::size_t column) const {
  static const std::string kEmpty;
  assert(column < values_.size());
  if (isNull(column)) return kEmpty;
  assert(std::holds_alternative<std::string>(values_[column]));
  return std::get<std::string>(values_[column]);
}

const core::Bytes& SqlRow::bytes(std::size_t column) const {
  static const core::Bytes kEmpty;
  assert(column < values_.size());
  if (isNull(column)) return kEmpty;
  assert(std::holds_alternative<core::Bytes>(values_[column]));
  return std::get<core::Bytes>(values_[column]);
}

}  // namespace jiancang::platform
