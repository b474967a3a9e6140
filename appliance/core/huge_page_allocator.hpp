// An allocator for the big fixed tables (connection entries and hash
// slots): anonymous memory advised to use transparent huge pages. With
// 1 M connections the tables span ~128 MB touched at random; on 4 KiB pages
// nearly every lookup also misses the TLB. Allocated once at start, so the
// mmap costs nothing on the packet path. Falls back to plain pages where
// THP is off (madvise is only advice).
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace vsd {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  static constexpr std::size_t kHuge = 2u << 20;
  static std::size_t rounded(std::size_t n) { return (n * sizeof(T) + kHuge - 1) / kHuge * kHuge; }

  T* allocate(std::size_t n) {
    void* p = ::mmap(nullptr, rounded(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ::madvise(p, rounded(n), MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept { ::munmap(p, rounded(n)); }

  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace vsd
