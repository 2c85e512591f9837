#include "output_memory.h"

#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace soapix {

OutputBlock* OutputBlock::create(size_t bytes) {
  constexpr size_t kHuge = size_t{2} << 20;
  // Large blocks: aligned to 2 MiB and a whole number of huge pages, so all of it can be backed
  // by huge pages (only advice: nothing changes where the kernel refuses).
  const bool huge = bytes >= 2 * kHuge;
  const size_t size = huge ? (bytes + kHuge - 1) / kHuge * kHuge : (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(huge ? kHuge : 64, size == 0 ? 64 : size);
  if (!p) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(p, size, MADV_HUGEPAGE);
#endif
  return new OutputBlock(static_cast<char*>(p), size);
}

void OutputBlock::release() {
  if (users_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::free(data_);
    delete this;
  }
}

}  // namespace soapix
