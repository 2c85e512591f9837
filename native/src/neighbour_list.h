// The neighbours of one centre, as structure-of-arrays, grouped by density group (one group per
// species, or a single pooled group for compression "mu2"). Group g occupies [begin[g], begin[g+1]).
// Every array is padded with zeros to padVec(count()) entries (simd.h), so vector loops may run
// whole vectors past the end.
#pragma once
#include <vector>

namespace soapix {

struct NeighbourList {
  std::vector<double> dx, dy, dz;  // neighbour position minus centre position
  std::vector<double> r2;          // squared distance
  std::vector<double> w;           // density amplitude: radial weighting x species weight (w0 at r = 0)
  std::vector<int> begin;          // size numGroups + 1
  bool unitWeights = true;         // every w is exactly 1
  bool integerR2 = false;          // every r2 is known to be an integer (points and centre on an integer grid)
  int numGroups() const { return static_cast<int>(begin.size()) - 1; }
  int count() const { return begin.back(); }
};

}  // namespace soapix
