#include "soap_calculator.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <string>

#include "neighbour_list.h"
#include "neighbour_search.h"
#include "power_spectrum.h"

namespace soapix {

SoapCalculator::SoapCalculator(const SoapParams& params, const GtoBasis* gto, const PolynomialBasis* poly)
    : params_(params) {
  params_.validate();
  if (params_.rbf == Rbf::Gto) {
    gto_ = gto ? *gto : makeGtoBasis(params_.rCut, params_.nMax, params_.lMax);
    checkGtoBasis(gto_, params_.nMax, params_.lMax);
    kernel_ = makeGtoKernel(params_, gto_);
  } else {
    poly_ = poly ? *poly : makePolynomialBasis(params_.rCut, params_.nMax);
    kernel_ = makePolynomialKernel(params_, poly_);
  }
  prefactor_ = kernel_->powerPrefactors();
}

long SoapCalculator::outputRows(const StructureView& s) const {
  if (params_.average != Average::Off) return 1;
  return s.centers == CenterMode::All ? s.numPoints : s.numCenters;
}

void SoapCalculator::validate(const StructureView& s, const std::string& label) const {
  if (s.numPoints < 0) throw InvalidType(label + ": negative point count");
  if (s.numPoints > 0 && !s.positions) throw InvalidType(label + ": positions are missing");
  for (long i = 0; i < 3 * s.numPoints; ++i) {
    const double v = s.positions[i];
    if (!std::isfinite(v) || std::fabs(v) > kMaxCoordinate)
      throw InvalidArgument(label + ": coordinate " + "xyz"[i % 3] + " of point " + std::to_string(i / 3) +
                            " is " + std::to_string(v) + "; coordinates must be finite with magnitude <= 1e12");
  }
  if (s.atomicNumbers) {
    for (long i = 0; i < s.numPoints; ++i)
      if (params_.speciesIndex(s.atomicNumbers[i]) < 0)
        throw InvalidArgument(label + ": point " + std::to_string(i) + " has atomic number " +
                              std::to_string(s.atomicNumbers[i]) +
                              ", which is not among the species this Soap was created with");
  } else if (params_.numSpecies() != 1 && s.numPoints > 0) {
    throw InvalidType(label + ": species are required when the Soap has more than one species");
  }
  if (s.centers == CenterMode::Indices) {
    if (s.numCenters > 0 && !s.centerIndices) throw InvalidType(label + ": centre indices are missing");
    for (long c = 0; c < s.numCenters; ++c)
      if (s.centerIndices[c] < 0 || s.centerIndices[c] >= s.numPoints)
        throw InvalidArgument(label + ": centre index " + std::to_string(s.centerIndices[c]) + " (entry " +
                              std::to_string(c) + ") is out of range; the structure has " +
                              std::to_string(s.numPoints) + " points");
  } else if (s.centers == CenterMode::Positions) {
    if (s.numCenters > 0 && !s.centerPositions) throw InvalidType(label + ": centre positions are missing");
    for (long i = 0; i < 3 * s.numCenters; ++i) {
      const double v = s.centerPositions[i];
      if (!std::isfinite(v) || std::fabs(v) > kMaxCoordinate)
        throw InvalidArgument(label + ": coordinate " + "xyz"[i % 3] + " of centre " + std::to_string(i / 3) +
                              " is " + std::to_string(v) +
                              "; coordinates must be finite with magnitude <= 1e12");
    }
  }
}

namespace {

// Everything one thread reuses from centre to centre.
struct ThreadState {
  NeighbourList nb;
  Workspace ws;
  std::vector<double> coeff, spectrum, scratch;
  std::vector<long> searchScratch;
  std::vector<long> hitIndex;
  std::vector<double> hit;  // dx, dy, dz, r2 per hit
  std::vector<int> count;
};

struct Prepared {
  std::unique_ptr<NeighbourSearch> search;
  std::vector<int> group;        // density group of each point
  std::vector<double> weight;    // species weight of each point
};

}  // namespace

void SoapCalculator::compute(const std::vector<StructureView>& structs, const std::vector<void*>& out,
                             DType dtype, int threads, const std::atomic<bool>* cancel) const {
  const SoapParams& p = params_;
  const long F = static_cast<long>(p.featureCount());
  const int G = densityGroups(p);
  const int LL = (p.lMax + 1) * (p.lMax + 1);
  const long coeffSize = static_cast<long>(G) * p.nMax * LL;
  const double cutoff = p.neighbourCutoff();
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  const long S = static_cast<long>(structs.size());

  std::exception_ptr error;
  std::mutex errorLock;
  auto fail = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> g(errorLock);
    if (!error) error = e;
  };
  auto cancelled = [&] { return (cancel && cancel->load(std::memory_order_relaxed)) || error; };

  std::vector<Prepared> prep(S);
#pragma omp parallel for schedule(dynamic) num_threads(nthreads)
  for (long s = 0; s < S; ++s) {
    try {
      const StructureView& v = structs[s];
      prep[s].search = std::make_unique<NeighbourSearch>(v.positions, v.numPoints, cutoff);
      prep[s].group.resize(v.numPoints);
      prep[s].weight.resize(v.numPoints);
      for (long i = 0; i < v.numPoints; ++i) {
        const int species = v.atomicNumbers ? p.speciesIndex(v.atomicNumbers[i]) : 0;
        prep[s].group[i] = G == 1 ? 0 : species;
        prep[s].weight[i] = p.speciesWeights[species];
      }
    } catch (...) {
      fail(std::current_exception());
    }
  }
  if (error) std::rethrow_exception(error);

  // Coefficients c[g][n][lm] of one centre.
  auto centreCoefficients = [&](ThreadState& t, long s, long c) {
    const StructureView& v = structs[s];
    double q[3];
    const double* centre;
    if (v.centers == CenterMode::Positions) {
      centre = v.centerPositions + 3 * c;
    } else {
      const long idx = v.centers == CenterMode::Indices ? static_cast<long>(v.centerIndices[c]) : c;
      q[0] = v.positions[3 * idx];
      q[1] = v.positions[3 * idx + 1];
      q[2] = v.positions[3 * idx + 2];
      centre = q;
    }
    // Hits go straight into preallocated arrays (at most every point of the structure).
    const long maxHits = v.numPoints;
    if (static_cast<long>(t.hitIndex.size()) < maxHits) {
      t.hitIndex.resize(maxHits);
      t.hit.resize(4 * maxHits);
    }
    long H = 0;
    long* hitIndex = t.hitIndex.data();
    double* hit = t.hit.data();
    prep[s].search->forEachWithin(centre, t.searchScratch, [&](long i, double dx, double dy, double dz, double r2) {
      hitIndex[H] = i;
      hit[4 * H] = dx;
      hit[4 * H + 1] = dy;
      hit[4 * H + 2] = dz;
      hit[4 * H + 3] = r2;
      ++H;
    });
    // Bucket the neighbours by density group, keeping point order inside each group.
    const std::vector<int>& group = prep[s].group;
    t.count.assign(G + 1, 0);
    for (long h = 0; h < H; ++h) ++t.count[group[hitIndex[h]] + 1];
    NeighbourList& nb = t.nb;
    nb.begin.assign(G + 1, 0);
    for (int g = 0; g < G; ++g) nb.begin[g + 1] = nb.begin[g] + t.count[g + 1];
    nb.dx.resize(H);
    nb.dy.resize(H);
    nb.dz.resize(H);
    nb.r2.resize(H);
    nb.w.resize(H);
    std::vector<int>& fill = t.count;
    for (int g = 0; g < G; ++g) fill[g] = nb.begin[g];
    const Weighting& wt = p.weighting;
    const bool radialWeighting = wt.function != WeightFunction::None;
    for (long h = 0; h < H; ++h) {
      const long i = hitIndex[h];
      const int g = group[i];
      const int o = fill[g]++;
      const double r2 = hit[4 * h + 3];
      nb.dx[o] = hit[4 * h];
      nb.dy[o] = hit[4 * h + 1];
      nb.dz[o] = hit[4 * h + 2];
      nb.r2[o] = r2;
      double w = prep[s].weight[i];
      if (r2 == 0.0 && wt.hasW0) w *= wt.w0;
      else if (radialWeighting) w *= wt.weight(std::sqrt(r2));
      nb.w[o] = w;
    }
    t.coeff.resize(coeffSize);
    kernel_->compute(nb, t.coeff.data(), t.ws);
  };
  auto store = [&](long s, long row, const double* values) {
    if (dtype == DType::Float64) {
      std::copy(values, values + F, static_cast<double*>(out[s]) + row * F);
    } else {
      float* o = static_cast<float*>(out[s]) + row * F;
      for (long f = 0; f < F; ++f) o[f] = static_cast<float>(values[f]);
    }
  };
  auto centresOf = [&](long s) {
    const StructureView& v = structs[s];
    return v.centers == CenterMode::All ? v.numPoints : v.numCenters;
  };

  if (p.average == Average::Off) {
    std::vector<long> first(S + 1, 0);
    for (long s = 0; s < S; ++s) first[s + 1] = first[s] + centresOf(s);
    const long total = first[S];
#pragma omp parallel num_threads(nthreads)
    {
      ThreadState t;
#pragma omp for schedule(dynamic, 8)
      for (long gi = 0; gi < total; ++gi) {
        if (cancelled()) continue;
        try {
          const long s = std::upper_bound(first.begin(), first.end(), gi) - first.begin() - 1;
          const long c = gi - first[s];
          centreCoefficients(t, s, c);
          t.spectrum.resize(F);
          powerSpectrum(p, prefactor_, t.coeff.data(), t.spectrum.data(), t.scratch);
          store(s, c, t.spectrum.data());
        } catch (...) {
          fail(std::current_exception());
        }
      }
    }
  } else {
    // Averaged output: "inner" averages c over centres, "outer" averages p.
    const bool inner = p.average == Average::Inner;
    const long accSize = inner ? coeffSize : F;
    for (long s = 0; s < S && !cancelled(); ++s) {
      const long C = centresOf(s);
      // Per-thread partial sums over a static schedule, added in thread order: the same thread
      // count gives bit-identical results run after run.
      std::vector<std::vector<double>> partial(nthreads);
#pragma omp parallel num_threads(nthreads)
      {
        ThreadState t;
        std::vector<double> local(accSize, 0.0);
#pragma omp for schedule(static)
        for (long c = 0; c < C; ++c) {
          if (cancelled()) continue;
          try {
            centreCoefficients(t, s, c);
            if (inner) {
              for (long i = 0; i < accSize; ++i) local[i] += t.coeff[i];
            } else {
              t.spectrum.resize(F);
              powerSpectrum(p, prefactor_, t.coeff.data(), t.spectrum.data(), t.scratch);
              for (long i = 0; i < F; ++i) local[i] += t.spectrum[i];
            }
          } catch (...) {
            fail(std::current_exception());
          }
        }
        partial[omp_get_thread_num()] = std::move(local);
      }
      std::vector<double> acc(accSize, 0.0);
      for (const auto& part : partial)
        for (long i = 0; i < static_cast<long>(part.size()); ++i) acc[i] += part[i];
      if (error) break;
      std::vector<double> row(F, 0.0);
      if (C > 0) {
        for (double& a : acc) a /= static_cast<double>(C);
        if (inner) {
          std::vector<double> scratch;
          powerSpectrum(p, prefactor_, acc.data(), row.data(), scratch);
        } else {
          row = acc;
        }
      }
      store(s, 0, row.data());
    }
  }
  if (error) std::rethrow_exception(error);
  if (cancel && cancel->load()) throw Cancelled();
}

}  // namespace soapix
