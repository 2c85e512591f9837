// One block of memory holding every output of one compute call (no N-API here; binding.cpp
// makes one ArrayBuffer per structure over its part). One allocation instead of one per
// structure, and large blocks get transparent huge pages: on first touch (by the compute threads)
// the kernel then takes one page fault per 2 MiB instead of one per 4 KiB, which on virtual
// machines is most of the cost of writing a fresh output. Not zero-filled: the engine writes
// every value.
#pragma once
#include <atomic>
#include <cstddef>

namespace soapix {

class OutputBlock {
 public:
  // Throws std::bad_alloc. The creator holds one reference.
  static OutputBlock* create(size_t bytes);
  char* data() const { return data_; }
  size_t size() const { return bytes_; }
  void retain() { users_.fetch_add(1, std::memory_order_relaxed); }
  // Frees the block when the last user lets go.
  void release();

 private:
  OutputBlock(char* data, size_t bytes) : data_(data), bytes_(bytes) {}
  char* data_;
  size_t bytes_;
  std::atomic<long> users_{1};
};

// Each part starts on a 64-byte boundary.
inline size_t outputPartBytes(size_t bytes) { return (bytes + 63) / 64 * 64; }

}  // namespace soapix
