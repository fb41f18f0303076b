// The one shape of a fallible call: a value (or nothing) or an Error that says why, in words a user can act on.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace mesim {

struct Error {
  std::string message;
};

// Result<T>: `if (!r) use r.error().message; else use *r`. Result<> for calls that return nothing.
template <class T = void>
using Result = boost::system::result<T, Error>;

inline Error fail(std::string message) { return Error{std::move(message)}; }

// The message of a failed Result, empty on success: for log lines, and for tests that compare it.
template <class T>
std::string errorOf(const Result<T>& result) {
  return result ? std::string() : result.error().message;
}

// Found by ADL when value() is called on a failed Result.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

}  // namespace mesim
