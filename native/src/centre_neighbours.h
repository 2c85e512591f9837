// The neighbours of each centre of a structure. Once per structure: the points go into a cell list
// (neighbour_search.h) in cell order with their density group and weight, and the centres are put
// in cell order too, so consecutive centres share their neighbourhood in cache whatever order the
// caller gave the points in (the rows of the output stay in the caller's order). Per centre: the
// points within the cutoff are gathered from the cell list as a NeighbourList, grouped by density
// group, with each neighbour's amplitude w = species weight x radial weighting (w0 on the centre).
#pragma once
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "neighbour_list.h"
#include "neighbour_search.h"
#include "soap_params.h"

namespace soapix {

enum class CenterMode { All, Indices, Positions };

// A read-only view of one structure and the centres wanted for it. Nothing is copied.
struct StructureView {
  const double* positions = nullptr;  // x,y,z per point
  long numPoints = 0;
  const int32_t* atomicNumbers = nullptr;  // one per point; nullptr means "the only species"
  CenterMode centers = CenterMode::All;
  const int64_t* centerIndices = nullptr;   // CenterMode::Indices
  const double* centerPositions = nullptr;  // CenterMode::Positions, x,y,z per centre
  long numCenters = 0;
  long centreCount() const { return centers == CenterMode::All ? numPoints : numCenters; }
  // Position of centre c (x, y, z).
  const double* centre(long c) const {
    if (centers == CenterMode::Positions) return centerPositions + 3 * c;
    return positions + 3 * (centers == CenterMode::Indices ? static_cast<long>(centerIndices[c]) : c);
  }
};

// Per-thread scratch of gather(), reused across centres.
struct GatherScratch {
  std::vector<double> d;  // dx, dy, dz, r2 of every candidate
  std::vector<long> slot;
  std::vector<int> count;
  std::vector<std::pair<long, long>> runs;  // slot ranges to scan
};

class StructureNeighbours {
 public:
  // groups: number of density groups (power_spectrum.h densityGroups).
  StructureNeighbours(const StructureView& s, const SoapParams& p, int groups) { build(s, p, groups); }
  StructureNeighbours() = default;
  // The same for another structure, reusing this object's memory (one per thread for small
  // structures: no allocation per structure once the buffers have grown).
  void build(const StructureView& s, const SoapParams& p, int groups);
  // Centres in processing order: order()[k] is a centre index c (an output row).
  const std::vector<long>& order() const { return order_; }
  // Fills nb with the neighbours of the point q (the centre itself included when it is a point).
  void gather(const double* q, NeighbourList& nb, GatherScratch& t) const;

 private:
  const SoapParams* p_ = nullptr;
  int groups_ = 1;
  double cut2_ = 0;
  CellList cells_;
  std::vector<int> group_;        // per slot
  std::vector<double> weight_;    // per slot (species weight)
  bool unitWeights_ = true;       // every neighbour amplitude is 1 (no weights to compute)
  bool integerGrid_ = false;      // every coordinate is an integer of magnitude <= 2^24
  std::vector<int32_t> species_;  // per point: species index (scratch)
  std::vector<std::pair<std::array<int64_t, 3>, long>> keyed_;  // centre ordering (scratch)
  std::vector<long> order_;
};

}  // namespace soapix
