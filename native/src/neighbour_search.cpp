#include "neighbour_search.h"

#include <algorithm>
#include <cmath>

namespace soapix {

uint64_t NeighbourSearch::key(int64_t cx, int64_t cy, int64_t cz) {
  uint64_t h = static_cast<uint64_t>(cx) * 0x9E3779B97F4A7C15ULL;
  h ^= static_cast<uint64_t>(cy) * 0xC2B2AE3D27D4EB4FULL + (h << 6) + (h >> 2);
  h ^= static_cast<uint64_t>(cz) * 0x165667B19E3779F9ULL + (h << 6) + (h >> 2);
  return h;
}

NeighbourSearch::NeighbourSearch(const double* positions, long n, double cutoff)
    : pos_(positions), n_(n), cutoff_(cutoff), cut2_(cutoff * cutoff), singleCell_(true) {
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  for (long i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) {
      const double v = positions[3 * i + d];
      if (i == 0 || v < lo[d]) lo[d] = v;
      if (i == 0 || v > hi[d]) hi[d] = v;
    }
  for (int d = 0; d < 3; ++d) origin_[d] = lo[d];
  // Small clouds (or clouds inside one cutoff sphere) are scanned directly: cheaper than binning.
  const double extent = std::max({hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]});
  if (n <= 64 || extent <= cutoff) return;
  singleCell_ = false;
  cellCoord_.resize(3 * n);
  for (long i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d)
      cellCoord_[3 * i + d] = static_cast<int64_t>(std::floor((positions[3 * i + d] - origin_[d]) / cutoff));
  order_.resize(n);
  for (long i = 0; i < n; ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [&](long a, long b) {
    const int64_t* ca = &cellCoord_[3 * a];
    const int64_t* cb = &cellCoord_[3 * b];
    if (ca[0] != cb[0]) return ca[0] < cb[0];
    if (ca[1] != cb[1]) return ca[1] < cb[1];
    if (ca[2] != cb[2]) return ca[2] < cb[2];
    return a < b;
  });
  long s = 0;
  while (s < n) {
    long e = s + 1;
    const int64_t* c0 = &cellCoord_[3 * order_[s]];
    while (e < n && std::equal(c0, c0 + 3, &cellCoord_[3 * order_[e]])) ++e;
    const uint64_t k = key(c0[0], c0[1], c0[2]);
    auto it = cells_.find(k);
    if (it == cells_.end()) {
      cells_.emplace(k, Range{s, e});
    } else {
      // Hash collision between two different cells: merge the ranges is impossible (not
      // contiguous), so fall back to a direct scan, which is always correct.
      singleCell_ = true;
      return;
    }
    s = e;
  }
}

bool NeighbourSearch::cellOf(const double* q, int64_t c[3]) const {
  for (int d = 0; d < 3; ++d) {
    const double v = std::floor((q[d] - origin_[d]) / cutoff_);
    if (!(std::fabs(v) < 4e18)) return false;  // far beyond every cell (or not finite)
    c[d] = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace soapix
