// Finds all points within a cutoff of a query position. Points are binned into cubic cells of the
// cutoff's size and the occupied cells are kept in a hash map, so memory grows with the number of
// points, never with the spatial extent of the cloud (points 1e8 apart cost nothing extra).
#pragma once
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace soapix {

class NeighbourSearch {
 public:
  // positions: x,y,z per point (n points); all coordinates finite. cutoff > 0.
  NeighbourSearch(const double* positions, long n, double cutoff);
  // Calls visit(index, dx, dy, dz, r2) for every point with r2 <= cutoff^2 (inclusive, as DScribe),
  // where (dx, dy, dz) = point - query. Points are visited in ascending index order.
  template <class Visit>
  void forEachWithin(const double* q, std::vector<long>& scratch, Visit&& visit) const;

 private:
  struct Range {
    long begin, end;
  };
  static uint64_t key(int64_t cx, int64_t cy, int64_t cz);
  bool cellOf(const double* q, int64_t c[3]) const;

  const double* pos_;
  long n_;
  double cutoff_, cut2_;
  double origin_[3];
  bool singleCell_;                 // everything fits in one cell: no binning needed
  std::vector<long> order_;         // point indices sorted by cell
  std::vector<int64_t> cellCoord_;  // 3 per point
  std::unordered_map<uint64_t, Range> cells_;
};

template <class Visit>
void NeighbourSearch::forEachWithin(const double* q, std::vector<long>& scratch, Visit&& visit) const {
  auto test = [&](long i) {
    const double dx = pos_[3 * i] - q[0], dy = pos_[3 * i + 1] - q[1], dz = pos_[3 * i + 2] - q[2];
    const double r2 = dx * dx + dy * dy + dz * dz;
    if (r2 <= cut2_) visit(i, dx, dy, dz, r2);
  };
  if (singleCell_) {
    for (long i = 0; i < n_; ++i) test(i);
    return;
  }
  int64_t c[3];
  if (!cellOf(q, c)) return;
  scratch.clear();
  for (int64_t ix = -1; ix <= 1; ++ix)
    for (int64_t iy = -1; iy <= 1; ++iy)
      for (int64_t iz = -1; iz <= 1; ++iz) {
        auto it = cells_.find(key(c[0] + ix, c[1] + iy, c[2] + iz));
        if (it == cells_.end()) continue;
        for (long o = it->second.begin; o < it->second.end; ++o) {
          const long i = order_[o];
          // The hash key can collide; keep only points whose cell really is adjacent.
          if (cellCoord_[3 * i] == c[0] + ix && cellCoord_[3 * i + 1] == c[1] + iy &&
              cellCoord_[3 * i + 2] == c[2] + iz)
            scratch.push_back(i);
        }
      }
  std::sort(scratch.begin(), scratch.end());
  for (long i : scratch) test(i);
}

}  // namespace soapix
