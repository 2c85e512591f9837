// A cell list: points binned into cubic cells whose side is half the cutoff, and stored in cell
// order as structure-of-arrays (x[], y[], z[] of the points of cell 0, then cell 1, ...). The points
// within the cutoff of a query lie in the 5 x 5 x 5 cells around the query's cell; of those, a
// search visits only the columns (fixed x and y cell) that come within the cutoff, and in each
// column only the z cells the sphere reaches, which are one run of consecutive slots. So a search
// scans a few short contiguous arrays holding ~2x the points of the sphere (cells of the cutoff's
// size would hold ~6x), and centres processed in cell order find their neighbours already in cache.
//
// Cells are kept in a dense grid when it has at most ~2 cells per point, else in a hash map keyed
// by the exact cell coordinates, so memory grows with the number of points, never with the
// spatial extent of the cloud (points 1e8 apart cost nothing extra).
//
// Inside a cell, points are ordered by (x, y, z, tie-break key, input index): the order depends on
// the points themselves and not on the order they were given in, so a permuted input gives
// bit-identical sums (equal points with equal keys contribute equal terms in either order).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace soapix {

class CellList {
 public:
  // positions: x,y,z per point (n points); all coordinates finite. cutoff > 0. tieBreak: an integer
  // per point (e.g. the species) used only to order equal positions; may be nullptr.
  CellList(const double* positions, long n, double cutoff, const int32_t* tieBreak) {
    build(positions, n, cutoff, tieBreak);
  }
  CellList() = default;
  // The same for another cloud, reusing this list's memory.
  void build(const double* positions, long n, double cutoff, const int32_t* tieBreak);

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
  struct Entry {  // a point while sorting
    int64_t cx, cy, cz;
    double x, y, z;
    int32_t tie;
    long index;
  };

  static constexpr int64_t kReach = 2;       // cells of half the cutoff: the sphere spans +-2 cells
  int64_t zCell(double z) const {            // cell index along z of a coordinate (clamped)
    double v = (z - origin_[2]) * invSide_;  // the expression of cellOf
    v = v < -4e18 ? -4e18 : v > 4e18 ? 4e18 : v;
    const int64_t t = static_cast<int64_t>(v);  // rounds toward zero
    return static_cast<double>(t) > v ? t - 1 : t;
  }

  long n_ = 0;
  double cutoff_ = 1, cut2_ = 1, side_ = 0.5, invSide_ = 2;  // side_ = cutoff / 2
  double origin_[3] = {0, 0, 0};
  std::vector<double> x_, y_, z_;
  std::vector<long> pointOf_, slotOf_;
  bool dense_ = true;
  int64_t dims_[3] = {1, 1, 1};                  // dense grid
  std::vector<long> cellStart_;                  // dense: slots of cell c are [cellStart_[c], cellStart_[c + 1])
  std::unordered_map<Key, Run, KeyHash> cells_;  // sparse
  std::vector<Entry> entries_;                   // sorting scratch, kept for the next build
};

template <class Visit>
void CellList::forEachRun(const double* q, Visit&& visit) const {
  if (n_ == 0) return;
  const std::array<int64_t, 3> c = cellOf(q);
  // Geometry with a margin for rounding (cell bounds and the sphere's z extent are computed, the
  // caller's distance test is exact): relative 1e-9 plus a few ulps of the coordinates.
  double scale = 0;
  for (int d = 0; d < 3; ++d) scale = std::max(scale, std::fabs(q[d]) + std::fabs(origin_[d]));
  const double reach = cutoff_ * (1 + 1e-9) + 16 * 2.220446049250313e-16 * scale + side_ * 1e-9;
  const double reach2 = reach * reach;
  auto gap = [&](int d, int64_t i) {  // distance from q to the slab of cells i along axis d
    const double lo = origin_[d] + static_cast<double>(i) * side_, hi = lo + side_;
    return q[d] < lo ? lo - q[d] : q[d] > hi ? q[d] - hi : 0.0;
  };
  for (int64_t ix = c[0] - kReach; ix <= c[0] + kReach; ++ix) {
    if (dense_ && (ix < 0 || ix >= dims_[0])) continue;
    const double gx = gap(0, ix);
    for (int64_t iy = c[1] - kReach; iy <= c[1] + kReach; ++iy) {
      if (dense_ && (iy < 0 || iy >= dims_[1])) continue;
      const double gy = gap(1, iy), g2 = gx * gx + gy * gy;
      if (g2 > reach2) continue;
      const double h = std::sqrt(std::max(0.0, reach * reach - g2));
      int64_t z0 = zCell(q[2] - h), z1 = zCell(q[2] + h);
      z0 = std::max(z0, c[2] - kReach);
      z1 = std::min(z1, c[2] + kReach);
      if (dense_) {
        z0 = std::max<int64_t>(z0, 0);
        z1 = std::min<int64_t>(z1, dims_[2] - 1);
        if (z0 > z1) continue;
        const int64_t row = (ix * dims_[1] + iy) * dims_[2];
        const long b = cellStart_[row + z0], e = cellStart_[row + z1 + 1];
        if (b < e) visit(b, e);
      } else {
        for (int64_t iz = z0; iz <= z1; ++iz) {
          auto it = cells_.find(Key{ix, iy, iz});
          if (it != cells_.end()) visit(it->second.begin, it->second.end);
        }
      }
    }
  }
}

}  // namespace soapix
