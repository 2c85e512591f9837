#include "neighbour_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace soapix {

size_t CellList::KeyHash::operator()(const Key& k) const {
  uint64_t h = static_cast<uint64_t>(k.x) * 0x9E3779B97F4A7C15ULL;
  h ^= static_cast<uint64_t>(k.y) * 0xC2B2AE3D27D4EB4FULL + (h << 6) + (h >> 2);
  h ^= static_cast<uint64_t>(k.z) * 0x165667B19E3779F9ULL + (h << 6) + (h >> 2);
  return static_cast<size_t>(h);
}

namespace {
// floor(v) as an integer. Coordinates are bounded (|v| <= 1e12, cutoff >= 1e-3), so the clamp only
// guards against misuse. (No std::floor: without SSE4.1 it is a library call.)
int64_t toCell(double v) {
  v = std::max(-4e18, std::min(4e18, v));
  const int64_t t = static_cast<int64_t>(v);  // rounds toward zero
  return static_cast<double>(t) > v ? t - 1 : t;
}
}  // namespace

std::array<int64_t, 3> CellList::cellOf(const double* q) const {
  std::array<int64_t, 3> c{};
  for (int d = 0; d < 3; ++d) c[d] = toCell((q[d] - origin_[d]) * invSide_);
  return c;
}

void CellList::build(const double* positions, long n, double cutoff, const int32_t* tieBreak) {
  n_ = n;
  cutoff_ = cutoff;
  cut2_ = cutoff * cutoff;
  side_ = cutoff / 2;
  invSide_ = 2 / cutoff;
  dims_[0] = dims_[1] = dims_[2] = 1;
  cells_.clear();
  double lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};
  for (long i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) {
      const double v = positions[3 * i + d];
      if (i == 0 || v < lo[d]) lo[d] = v;
      if (i == 0 || v > hi[d]) hi[d] = v;
    }
  for (int d = 0; d < 3; ++d) origin_[d] = lo[d];

  // Dense grid when it has at most 2 cells per point (plus a few for tiny clouds).
  double cells = 1;
  for (int d = 0; d < 3; ++d) cells *= std::floor((hi[d] - lo[d]) * invSide_) + 1;
  dense_ = cells <= 2.0 * static_cast<double>(n) + 64;
  if (dense_)
    for (int d = 0; d < 3; ++d) dims_[d] = static_cast<int64_t>(std::floor((hi[d] - lo[d]) * invSide_)) + 1;

  std::vector<Entry>& e = entries_;
  e.resize(n);
  for (long i = 0; i < n; ++i) {
    const std::array<int64_t, 3> c = cellOf(positions + 3 * i);
    e[i] = Entry{
        c[0], c[1], c[2], positions[3 * i], positions[3 * i + 1], positions[3 * i + 2], tieBreak ? tieBreak[i] : 0, i};
  }
  std::sort(e.begin(), e.end(), [](const Entry& a, const Entry& b) {
    if (a.cx != b.cx) return a.cx < b.cx;
    if (a.cy != b.cy) return a.cy < b.cy;
    if (a.cz != b.cz) return a.cz < b.cz;
    if (a.x != b.x) return a.x < b.x;
    if (a.y != b.y) return a.y < b.y;
    if (a.z != b.z) return a.z < b.z;
    if (a.tie != b.tie) return a.tie < b.tie;
    return a.index < b.index;
  });

  x_.resize(n);
  y_.resize(n);
  z_.resize(n);
  pointOf_.resize(n);
  slotOf_.resize(n);
  for (long s = 0; s < n; ++s) {
    x_[s] = e[s].x;
    y_[s] = e[s].y;
    z_[s] = e[s].z;
    pointOf_[s] = e[s].index;
    slotOf_[e[s].index] = s;
  }

  if (dense_) {
    const int64_t total = dims_[0] * dims_[1] * dims_[2];
    cellStart_.assign(static_cast<size_t>(total) + 1, 0);
    for (const Entry& p : e) ++cellStart_[static_cast<size_t>((p.cx * dims_[1] + p.cy) * dims_[2] + p.cz) + 1];
    std::partial_sum(cellStart_.begin(), cellStart_.end(), cellStart_.begin());
  } else {
    cells_.reserve(static_cast<size_t>(n));
    long s = 0;
    while (s < n) {
      long t = s + 1;
      while (t < n && e[t].cx == e[s].cx && e[t].cy == e[s].cy && e[t].cz == e[s].cz) ++t;
      cells_.emplace(Key{e[s].cx, e[s].cy, e[s].cz}, Run{s, t});
      s = t;
    }
  }
}

}  // namespace soapix
