// The neighbours of one centre, as structure-of-arrays, grouped by density group (one group per
// species, or a single pooled group for compression "mu2"). Group g occupies [begin[g], begin[g+1]).
#pragma once
#include <vector>

namespace soapix {

struct NeighbourList {
  std::vector<double> dx, dy, dz;  // neighbour position minus centre position
  std::vector<double> r2;          // squared distance
  std::vector<double> w;           // density amplitude: radial weighting x species weight (w0 at r = 0)
  std::vector<int> begin;          // size numGroups + 1
  int numGroups() const { return static_cast<int>(begin.size()) - 1; }
  void clear() { dx.clear(); dy.clear(); dz.clear(); r2.clear(); w.clear(); begin.clear(); }
};

}  // namespace soapix
