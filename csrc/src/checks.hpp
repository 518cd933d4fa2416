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

/// Why a value was refused, recorded without building a message: sweeps refuse many
/// points, and an exception per point (with its message) cost ~14x a valid point. The
/// message, the same words `reject` would throw, is built only when asked for.
struct Refusal {
  const char* field = "";
  bool real = false;  ///< the values are real numbers (value_r, other_r), not integers
  std::int64_t value = 0, other = 0;
  double value_r = 0, other_r = 0;
  bool range = false;  ///< "allowed range is [lo, hi]"
  std::int64_t lo = 0, hi = 0;
  const char* rule = "";       ///< otherwise: rule, then what=other when `what` is set
  const char* what = nullptr;  ///< ("" prints other alone), then tail
  const char* tail = "";
  std::string message() const;
  [[noreturn]] void raise() const;
};

/// Records an out-of-range value in `r` (when given); false when refused.
inline bool in_range(Refusal* r, const char* field, std::int64_t value, std::int64_t lo,
                     std::int64_t hi) {
  if (value >= lo && value <= hi) return true;
  if (r != nullptr) {
    *r = Refusal{};
    r->field = field;
    r->value = value;
    r->range = true;
    r->lo = lo;
    r->hi = hi;
  }
  return false;
}

/// Records a refusal with a rule in words (and `what`=`other` after it); returns false.
inline bool refused(Refusal* r, const char* field, std::int64_t value, const char* rule,
                    const char* what = nullptr, std::int64_t other = 0, const char* tail = "") {
  if (r != nullptr) {
    *r = Refusal{};
    r->field = field;
    r->value = value;
    r->rule = rule;
    r->what = what;
    r->other = other;
    r->tail = tail;
  }
  return false;
}

/// The same for real values.
inline bool refused_real(Refusal* r, const char* field, double value, const char* rule,
                         const char* what = nullptr, double other = 0, const char* tail = "") {
  if (r != nullptr) {
    *r = Refusal{};
    r->field = field;
    r->real = true;
    r->value_r = value;
    r->rule = rule;
    r->what = what;
    r->other_r = other;
    r->tail = tail;
  }
  return false;
}

inline std::string Refusal::message() const {
  std::ostringstream msg;
  msg << field << "=";
  if (real) {
    msg << value_r;
  } else {
    msg << value;
  }
  msg << " is invalid: ";
  if (range) {
    msg << "allowed range is [" << lo << ", " << hi << "]";
  } else {
    msg << rule;
    if (what != nullptr) {  // "" prints `other` alone
      if (*what != '\0') msg << what << "=";
      if (real) {
        msg << other_r;
      } else {
        msg << other;
      }
    }
    msg << tail;
  }
  return msg.str();
}

[[noreturn]] __attribute__((noinline, cold)) inline void Refusal::raise() const {
  throw std::invalid_argument(message());
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
