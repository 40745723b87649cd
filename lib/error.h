#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace voisinage {

/// The one exception type lib/ throws. The message is lowercase, names its subject in quotes and carries
/// the context added at each boundary ("loading 'town.yaml': line 4: ..."). An optional hint is printed by
/// main on its own line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}

  const std::string& hint() const { return hint_; }

  /// Returns a copy whose message is "context: message", keeping the hint.
  Error WithContext(const std::string& context) const { return Error(context + ": " + what(), hint_); }

 private:
  std::string hint_;
};

/// Thrown when a concurrent change makes the requested one impossible (another moderator acted first...).
class ConflictError : public Error {
 public:
  using Error::Error;
};

/// Thrown when the thing named does not exist (an unknown post, member, neighbourhood, grievance): the
/// server answers 404.
class NotFoundError : public Error {
 public:
  using Error::Error;
};

/// Thrown when the actor may not do this (a suspended or silenced member, a role without the right): the
/// server answers 403.
class ForbiddenError : public Error {
 public:
  using Error::Error;
};

/// Throws Error(fmt::format(...)).
template <typename... Args>
[[noreturn]] void Fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace voisinage
