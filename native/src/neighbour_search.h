// A cell list: points binned into cubic cells whose side is the cutoff, and stored in cell order as
// structure-of-arrays (x[], y[], z[] of the points of cell 0, then cell 1, ...). The points within
// the cutoff of any query lie in the 27 cells around the query's cell, and in cell order those
// cells are 9 runs of consecutive slots (3 cells along z each), so a search scans a few short
// contiguous arrays, and centres processed in cell order find their neighbours already in cache.
//
// Cells are kept in a dense grid when it has at most ~2 cells per point, else in a hash map keyed
// by the exact cell coordinates, so memory grows with the number of points, never with the
// spatial extent of the cloud (points 1e8 apart cost nothing extra).
//
// Inside a cell, points are ordered by (x, y, z, tie-break key, input index): the order depends on
// the points themselves and not on the order they were given in, so a permuted input gives
// bit-identical sums (equal points with equal keys contribute equal terms in either order).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace soapix {

class CellList {
 public:
  // positions: x,y,z per point (n points); all coordinates finite. cutoff > 0. tieBreak: an integer
  // per point (e.g. the species) used only to order equal positions; may be nullptr.
  CellList(const double* positions, long n, double cutoff, const int32_t* tieBreak);

  long size() const { return n_; }
  double cutoff() const { return cutoff_; }
  const double* x() const { return x_.data(); }
  const double* y() const { return y_.data(); }
  const double* z() const { return z_.data(); }
  // pointOf()[slot] = input index of the point stored at `slot`; slotOf()[input index] = slot.
  const std::vector<long>& pointOf() const { return pointOf_; }
  const std::vector<long>& slotOf() const { return slotOf_; }

  // Integer cell coordinates of a position (for ordering centres: sorting by them gives slot order).
  std::array<int64_t, 3> cellOf(const double* q) const;

  // Calls visit(begin, end) for runs of slots that together hold every point of the 27 cells
  // around q's cell (and possibly more); the caller tests the distances.
  template <class Visit>
  void forEachRun(const double* q, Visit&& visit) const;

 private:
  struct Key {
    int64_t x, y, z;
    bool operator==(const Key& o) const { return x == o.x && y == o.y && z == o.z; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Run {
    long begin, end;
  };

  long n_;
  double cutoff_;
  double origin_[3];
  std::vector<double> x_, y_, z_;
  std::vector<long> pointOf_, slotOf_;
  bool dense_ = true;
  int64_t dims_[3] = {1, 1, 1};       // dense grid
  std::vector<long> cellStart_;       // dense: slots of cell c are [cellStart_[c], cellStart_[c + 1])
  std::unordered_map<Key, Run, KeyHash> cells_;  // sparse
};

template <class Visit>
void CellList::forEachRun(const double* q, Visit&& visit) const {
  if (n_ == 0) return;
  const std::array<int64_t, 3> c = cellOf(q);
  if (dense_) {
    // Clip the 3x3x3 block to the grid (a far-away query visits nothing).
    int64_t lo[3], hi[3];
    for (int d = 0; d < 3; ++d) {
      lo[d] = c[d] - 1 < 0 ? 0 : c[d] - 1;
      hi[d] = c[d] + 1 > dims_[d] - 1 ? dims_[d] - 1 : c[d] + 1;
      if (lo[d] > hi[d]) return;
    }
    for (int64_t ix = lo[0]; ix <= hi[0]; ++ix)
      for (int64_t iy = lo[1]; iy <= hi[1]; ++iy) {
        const int64_t row = (ix * dims_[1] + iy) * dims_[2];
        const long b = cellStart_[row + lo[2]], e = cellStart_[row + hi[2] + 1];
        if (b < e) visit(b, e);
      }
    return;
  }
  for (int64_t ix = -1; ix <= 1; ++ix)
    for (int64_t iy = -1; iy <= 1; ++iy)
      for (int64_t iz = -1; iz <= 1; ++iz) {
        auto it = cells_.find(Key{c[0] + ix, c[1] + iy, c[2] + iz});
        if (it != cells_.end()) visit(it->second.begin, it->second.end);
      }
}

}  // namespace soapix
