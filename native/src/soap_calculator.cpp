#include "soap_calculator.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <string>

#include "power_spectrum.h"
#include "simd.h"

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
  return s.centreCount();
}

void SoapCalculator::validate(const StructureView& s, const std::string& label) const {
  if (s.numPoints < 0) throw InvalidType(label + ": negative point count");
  if (s.numPoints > 0 && !s.positions) throw InvalidType(label + ": positions are missing");
  for (long i = 0; i < 3 * s.numPoints; ++i) {
    const double v = s.positions[i];
    if (!std::isfinite(v) || std::fabs(v) > kMaxCoordinate)
      throw InvalidArgument(label + ": coordinate " + "xyz"[i % 3] + " of point " + std::to_string(i / 3) + " is " +
                            std::to_string(v) + "; coordinates must be finite with magnitude <= 1e12");
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
        throw InvalidArgument(label + ": coordinate " + "xyz"[i % 3] + " of centre " + std::to_string(i / 3) + " is " +
                              std::to_string(v) + "; coordinates must be finite with magnitude <= 1e12");
    }
  }
}

namespace {

// Everything one thread reuses from centre to centre.
struct ThreadState {
  NeighbourList nb;
  GatherScratch gather;
  Workspace ws;
  std::vector<double> coeff, spectrum, scratch;
  std::vector<float> coeffF32, spectrumF32, scratchF32;
};

}  // namespace

void SoapCalculator::compute(const std::vector<StructureView>& structs, const std::vector<void*>& out, DType dtype,
                             int threads, const std::atomic<bool>* cancel) const {
  const SoapParams& p = params_;
  const long F = static_cast<long>(p.featureCount());
  const int G = densityGroups(p);
  const int LL = (p.lMax + 1) * (p.lMax + 1);
  const long coeffSize = static_cast<long>(G) * LL * padLanes(p.nMax);
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  const long S = static_cast<long>(structs.size());
  // float32 output is computed in float32 where the kernel has a float32 form (GTO on integer
  // grids), elsewhere in float64 and rounded; averages are accumulated in float64 either way.
  const bool f32 = dtype == DType::Float32 && kernel_->hasF32() && p.average == Average::Off;

  std::exception_ptr error;
  std::mutex errorLock;
  auto fail = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> g(errorLock);
    if (!error) error = e;
  };
  auto cancelled = [&] { return (cancel && cancel->load(std::memory_order_relaxed)) || error; };

  // Coefficients c[g][lm][n] of centre c of structure s (float64).
  auto centreCoefficients = [&](ThreadState& t, const StructureNeighbours& nbh, long s, long c) {
    nbh.gather(structs[s].centre(c), t.nb, t.gather);
    t.coeff.resize(coeffSize);
    kernel_->compute(t.nb, t.coeff.data(), t.ws);
  };
  auto store = [&](long s, long row, const double* values) {
    if (dtype == DType::Float64) {
      std::copy(values, values + F, static_cast<double*>(out[s]) + row * F);
    } else {
      float* o = static_cast<float*>(out[s]) + row * F;
      for (long f = 0; f < F; ++f) o[f] = static_cast<float>(values[f]);
    }
  };
  // One row of output: the power spectrum of centre c, written to the caller's row c.
  auto centreRow = [&](ThreadState& t, const StructureNeighbours& nbh, long s, long c) {
    nbh.gather(structs[s].centre(c), t.nb, t.gather);
    if (f32) {
      t.coeffF32.resize(coeffSize);
      if (kernel_->computeF32(t.nb, t.coeffF32.data(), t.ws)) {
        powerSpectrum(p, prefactor_, t.coeffF32.data(), static_cast<float*>(out[s]) + c * F, t.scratchF32);
        return;
      }
    }
    t.coeff.resize(coeffSize);
    kernel_->compute(t.nb, t.coeff.data(), t.ws);
    if (dtype == DType::Float64) {
      powerSpectrum(p, prefactor_, t.coeff.data(), static_cast<double*>(out[s]) + c * F, t.scratch);
    } else {
      t.spectrum.resize(F);
      powerSpectrum(p, prefactor_, t.coeff.data(), t.spectrum.data(), t.scratch);
      store(s, c, t.spectrum.data());
    }
  };

  if (p.average == Average::Off) {
    // Tasks: with many structures, a small one is one task, prepared by the thread that runs it in
    // memory that thread reuses (no allocation per structure); otherwise a structure is prepared
    // once, shared, and its centres split into chunks (so a single structure still uses every
    // thread). Each structure's centres run in cell order; rows go to the caller's order.
    constexpr long kChunk = 64;
    const long kWhole = S >= 4L * nthreads ? 4096 : 0;
    struct Task {
      long s, begin, end;
      bool whole;
    };
    std::vector<Task> tasks;
    std::vector<std::unique_ptr<StructureNeighbours>> shared(S);
    std::vector<long> large;
    for (long s = 0; s < S; ++s) {
      const long C = structs[s].centreCount();
      if (C <= kWhole) {
        if (C > 0) tasks.push_back({s, 0, C, true});
        continue;
      }
      large.push_back(s);
      for (long b = 0; b < C; b += kChunk) tasks.push_back({s, b, std::min(C, b + kChunk), false});
    }
#pragma omp parallel for schedule(dynamic) num_threads(nthreads)
    for (long i = 0; i < static_cast<long>(large.size()); ++i) {
      try {
        shared[large[i]] = std::make_unique<StructureNeighbours>(structs[large[i]], p, G);
      } catch (...) {
        fail(std::current_exception());
      }
    }
    if (error) std::rethrow_exception(error);
    const long T = static_cast<long>(tasks.size());
#pragma omp parallel num_threads(nthreads)
    {
      ThreadState t;
      StructureNeighbours local;
#pragma omp for schedule(dynamic, 1)
      for (long i = 0; i < T; ++i) {
        if (cancelled()) continue;
        try {
          const Task& task = tasks[i];
          if (task.whole) local.build(structs[task.s], p, G);
          const StructureNeighbours& nbh = task.whole ? local : *shared[task.s];
          for (long k = task.begin; k < task.end && !cancelled(); ++k) centreRow(t, nbh, task.s, nbh.order()[k]);
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
      const long C = structs[s].centreCount();
      StructureNeighbours nbh;
      try {
        nbh.build(structs[s], p, G);
      } catch (...) {
        fail(std::current_exception());
        break;
      }
      const std::vector<long>& order = nbh.order();
      // Per-thread partial sums over a static schedule, added in thread order: the same thread
      // count gives bit-identical results run after run.
      std::vector<std::vector<double>> partial(nthreads);
#pragma omp parallel num_threads(nthreads)
      {
        ThreadState t;
        std::vector<double> local(accSize, 0.0);
#pragma omp for schedule(static)
        for (long k = 0; k < C; ++k) {
          if (cancelled()) continue;
          try {
            centreCoefficients(t, nbh, s, order[k]);
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
