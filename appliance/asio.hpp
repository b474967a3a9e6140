// Boost.Asio 1.74 (Debian 12) uses std::exchange in awaitable.hpp without
// including <utility>; with g++ 12 in C++20 mode that fails to compile.
// Every vsd file includes Asio through this header.
#pragma once

#include <utility>

#include <boost/asio.hpp>
