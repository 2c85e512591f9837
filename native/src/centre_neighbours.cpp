#include "centre_neighbours.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "simd.h"

namespace soapix {
namespace {

// Integers of magnitude <= 2^24: differences, their squares and sums of three squares are exact.
bool onIntegerGrid(const double* v, long count) {
  bool ok = true;
  for (long i = 0; i < count; ++i) ok &= std::fabs(v[i]) <= 16777216.0 && v[i] == std::floor(v[i]);
  return ok;
}

}  // namespace

void StructureNeighbours::build(const StructureView& s, const SoapParams& p, int groups) {
  p_ = &p;
  groups_ = groups;
  cut2_ = p.neighbourCutoff() * p.neighbourCutoff();
  const long n = s.numPoints;
  species_.assign(n, 0);
  if (s.atomicNumbers)
    for (long i = 0; i < n; ++i) species_[i] = p.speciesIndex(s.atomicNumbers[i]);
  cells_.build(s.positions, n, p.neighbourCutoff(), species_.data());
  integerGrid_ = onIntegerGrid(s.positions, 3 * n);
  const Weighting& wt = p.weighting;
  unitWeights_ = wt.function == WeightFunction::None && (!wt.hasW0 || wt.w0 == 1.0);
  const std::vector<long>& pointOf = cells_.pointOf();
  group_.resize(n);
  weight_.resize(n);
  for (long slot = 0; slot < n; ++slot) {
    const int species = species_[pointOf[slot]];
    group_[slot] = groups == 1 ? 0 : species;
    weight_[slot] = p.speciesWeights[species];
    unitWeights_ = unitWeights_ && weight_[slot] == 1.0;
  }
  // Centres in cell order: points by slot; other centres by their cell (ties in input order).
  const long C = s.centreCount();
  if (s.centers == CenterMode::All) {
    order_.assign(pointOf.begin(), pointOf.end());
    return;
  }
  keyed_.resize(C);
  for (long c = 0; c < C; ++c) {
    if (s.centers == CenterMode::Indices) keyed_[c] = {{cells_.slotOf()[s.centerIndices[c]], 0, 0}, c};
    else keyed_[c] = {cells_.cellOf(s.centre(c)), c};
  }
  std::sort(keyed_.begin(), keyed_.end());
  order_.resize(C);
  for (long c = 0; c < C; ++c) order_[c] = keyed_[c].second;
}

void StructureNeighbours::gather(const double* q, NeighbourList& nb, GatherScratch& t) const {
  const double* X = cells_.x();
  const double* Yp = cells_.y();
  const double* Z = cells_.z();
  const double qx = q[0], qy = q[1], qz = q[2], cut2 = cut2_;
  const int G = groups_;
  // Every candidate is written before the ones beyond the cutoff are dropped, so the buffers hold
  // all candidates (plus the zero padding).
  long candidates = 0;
  t.runs.clear();
  cells_.forEachRun(q, [&](long b, long e) {
    candidates += e - b;
    t.runs.push_back({b, e});
  });
  const size_t cap = static_cast<size_t>(padVec(static_cast<int>(candidates) + 1));
  double *dx, *dy, *dz, *r2;
  if (G == 1) {  // straight into the neighbour list
    for (std::vector<double>* v : {&nb.dx, &nb.dy, &nb.dz, &nb.r2, &nb.w})
      if (v->size() < cap) v->resize(cap);
    dx = nb.dx.data(), dy = nb.dy.data(), dz = nb.dz.data(), r2 = nb.r2.data();
  } else {
    if (t.d.size() < 4 * cap) t.d.resize(4 * cap);
    dx = t.d.data(), dy = dx + cap, dz = dy + cap, r2 = dz + cap;
  }
  if (t.slot.size() < 2 * cap) t.slot.resize(2 * cap);
  long* slot = t.slot.data();
  long H = 0;
  for (const auto& [b, e] : t.runs) {
    // Whole run first (a loop the compiler vectorises); when some points lie beyond the cutoff,
    // the kept ones are moved forward (inclusive test, as DScribe).
    const long n = e - b;
    double* ox = dx + H;
    double* oy = dy + H;
    double* oz = dz + H;
    double* o2 = r2 + H;
    long* os = slot + H;
    long kept = 0;
#pragma omp simd reduction(+ : kept)
    for (long i = 0; i < n; ++i) {
      const double ax = X[b + i] - qx, ay = Yp[b + i] - qy, az = Z[b + i] - qz;
      const double d2 = ax * ax + ay * ay + az * az;
      ox[i] = ax;
      oy[i] = ay;
      oz[i] = az;
      o2[i] = d2;
      os[i] = b + i;
      kept += d2 <= cut2 ? 1 : 0;
    }
    if (kept < n) {
      long k = 0;
      for (long i = 0; i < n; ++i) {
        ox[k] = ox[i];
        oy[k] = oy[i];
        oz[k] = oz[i];
        o2[k] = o2[i];
        os[k] = os[i];
        k += o2[i] <= cut2 ? 1 : 0;
      }
    }
    H += kept;
  }

  nb.integerR2 = integerGrid_ && onIntegerGrid(q, 3);
  nb.begin.assign(G + 1, 0);
  if (G == 1) {
    nb.begin[1] = static_cast<int>(H);
  } else {
    // Group by density group, keeping cell order inside each group.
    const size_t padded = static_cast<size_t>(padVec(static_cast<int>(H)));
    for (std::vector<double>* v : {&nb.dx, &nb.dy, &nb.dz, &nb.r2, &nb.w})
      if (v->size() < padded) v->resize(padded);
    t.count.assign(G, 0);
    for (long h = 0; h < H; ++h) ++t.count[group_[slot[h]]];
    for (int g = 0; g < G; ++g) nb.begin[g + 1] = nb.begin[g] + t.count[g];
    for (int g = 0; g < G; ++g) t.count[g] = nb.begin[g];
    for (long h = 0; h < H; ++h) {
      const long s = slot[h];
      const long o = t.count[group_[s]]++;
      nb.dx[o] = dx[h];
      nb.dy[o] = dy[h];
      nb.dz[o] = dz[h];
      nb.r2[o] = r2[h];
      slot[H + 1 + o] = s;  // slots in list order, after the gathered ones
    }
    std::copy(slot + H + 1, slot + 2 * H + 1, slot);
  }
  const long end = padVec(static_cast<int>(H));
  for (long o = H; o < end; ++o) nb.dx[o] = nb.dy[o] = nb.dz[o] = nb.r2[o] = nb.w[o] = 0.0;
  if (unitWeights_) {
    nb.unitWeights = true;
    return;
  }
  const Weighting& wt = p_->weighting;
  const bool radialWeighting = wt.function != WeightFunction::None;
  bool unit = true;
  for (long o = 0; o < H; ++o) {
    double w = weight_[slot[o]];
    if (nb.r2[o] == 0.0 && wt.hasW0) w *= wt.w0;
    else if (radialWeighting) w *= wt.weight(std::sqrt(nb.r2[o]));
    nb.w[o] = w;
    unit = unit && w == 1.0;
  }
  nb.unitWeights = unit;
}

}  // namespace soapix
