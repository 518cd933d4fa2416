#pragma once
// Error reporting shared by the validating parts of the core: every failure is a
// std::invalid_argument (ValueError in Python) naming the field, its value and what is
// allowed. The messages are built only on failure, off the hot path.

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace scalingperf::detail {

template <class T>
[[noreturn]] __attribute__((noinline, cold)) inline void reject(const char* field, T value,
                                                          const std::string& allowed) {
  std::ostringstream msg;
  msg << field << "=" << value << " is invalid: " << allowed;
  throw std::invalid_argument(msg.str());
}

[[noreturn]] __attribute__((noinline, cold)) inline void reject_range(const char* field,
                                                                std::int64_t value,
                                                                std::int64_t lo, std::int64_t hi) {
  std::ostringstream allowed;
  allowed << "allowed range is [" << lo << ", " << hi << "]";
  reject(field, value, allowed.str());
}

// Inlined on the hot path of sweeps; the message is built only on failure.
inline void check_range(const char* field, std::int64_t value, std::int64_t lo,
                        std::int64_t hi) {
  if (value < lo || value > hi) reject_range(field, value, lo, hi);
}

template <class Enum, std::size_t N>
inline Enum parse(const char* field, const std::string& name, const Enum (&values)[N]) {
  std::string allowed = "allowed values are";
  for (Enum value : values) {
    if (name == name_of(value)) return value;
    allowed += std::string(" '") + name_of(value) + "'";
  }
  reject(field, "'" + name + "'", allowed);
}

}  // namespace scalingperf::detail
