// N-API binding: converts and validates JavaScript values, runs the engine, converts errors.
// The SOAP option checks live here and in SoapParams::validate only (soap.ts converts, never checks).
// All maths lives in the other files. Errors: InvalidArgument -> RangeError, InvalidType ->
// TypeError, anything else -> Error; nothing escapes as a C++ exception that could abort Node.
#include <napi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <type_traits>
#include <utility>

#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "flops_probe.h"
#include "output_memory.h"
#include "simd.h"
#include "soap_calculator.h"

namespace {

using namespace soapix;

[[noreturn]] void throwType(const std::string& m) { throw InvalidType(m); }
[[noreturn]] void throwRange(const std::string& m) { throw InvalidArgument(m); }

// Most OpenMP threads one call may ask for (0: all cores).
constexpr int kMaxThreads = 4096;

// Runs f, turning C++ exceptions into JavaScript exceptions of the right class.
template <class F>
Napi::Value guarded(const Napi::Env& env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const InvalidType& e) {
    throw Napi::TypeError::New(env, e.what());
  } catch (const InvalidArgument& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "out of memory: the request is too large");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// A JavaScript value as error messages show it: numbers and strings as JavaScript writes them
// (1.5, NaN, '4'), anything else by its kind.
std::string describe(const Napi::Value& v) {
  if (v.IsNumber()) return v.ToString().Utf8Value();
  if (v.IsString()) return "'" + v.As<Napi::String>().Utf8Value() + "'";
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a typed array";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "a value of another type";
}

// o[key] as a number; `label` names it in messages (e.g. "weighting.r0").
double numberField(const Napi::Object& o, const char* key, const std::string& label, double fallback,
                   bool required = false) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (required) throwType(label + " is required");
    return fallback;
  }
  if (!v.IsNumber()) throwType(label + " must be a number, got " + describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

// o[key] as an integer; its range is checked by SoapParams::validate.
int intField(const Napi::Object& o, const char* key, const std::string& label) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) throwType(label + " is required");
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : 0.5;
  if (!std::isfinite(d) || d != std::floor(d)) throwType(label + " must be an integer, got " + describe(v));
  if (std::fabs(d) > 1e9) throwRange(label + " must be an integer of magnitude at most 1e9, got " + describe(v));
  return static_cast<int>(d);
}

// o[key] as one of `allowed` (JavaScript names, in order; the enum values `values`), or `fallback`
// when absent. Names listed after `shown` are accepted but not offered in the message.
template <class E>
E enumField(const Napi::Object& o, const char* key, const std::string& label, const std::vector<std::string>& allowed,
            const std::vector<E>& values, E fallback, size_t shown) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (size_t i = 0; i < allowed.size(); ++i)
      if (s == allowed[i]) return values[i];
  }
  std::string list;
  for (size_t i = 0; i < shown; ++i) list += (i == 0 ? "" : i + 1 == shown ? " or " : ", ") + ("'" + allowed[i] + "'");
  throwRange(label + " must be " + list + ", got " + describe(v));
}

template <class T, napi_typedarray_type Kind>
std::vector<T> typedArrayField(const Napi::Value& v, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != Kind)
    throwType(what + " must be a " + (Kind == napi_float64_array ? "Float64Array" : "Int32Array"));
  auto a = v.As<Napi::TypedArrayOf<T>>();
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

// The options of a Soap as soap.ts passes them (species as atomic numbers, weights per species):
// every type, value and range check of the SOAP options happens here and in SoapParams::validate,
// and nowhere else; soap.ts only converts.
SoapParams parseParams(const Napi::Object& o) {
  SoapParams p;
  p.rCut = numberField(o, "rCut", "rCut", 0, true);
  p.nMax = intField(o, "nMax", "nMax");
  p.lMax = intField(o, "lMax", "lMax");
  p.sigma = numberField(o, "sigma", "sigma", 1.0);
  p.rbf = enumField<Rbf>(o, "rbf", "rbf", {"gto", "polynomial"}, {Rbf::Gto, Rbf::Polynomial}, Rbf::Gto, 2);
  p.compression = enumField<Compression>(
      o, "compression", "compression.mode", {"off", "crossover", "mu2", "mu1nu1"},
      {Compression::Off, Compression::Crossover, Compression::Mu2, Compression::Mu1Nu1}, Compression::Off, 4);
  p.average = enumField<Average>(o, "average", "average", {"off", "inner", "outer"},
                                 {Average::Off, Average::Inner, Average::Outer}, Average::Off, 3);
  Napi::Value sp = o.Get("species");
  std::vector<int32_t> species = typedArrayField<int32_t, napi_int32_array>(sp, "species");
  if (species.empty()) throwType("species must be a non-empty array of symbols or atomic numbers, e.g. ['H']");
  p.species.assign(species.begin(), species.end());
  Napi::Value sw = o.Get("speciesWeights");
  if (sw.IsUndefined()) p.speciesWeights.assign(p.species.size(), 1.0);
  else p.speciesWeights = typedArrayField<double, napi_float64_array>(sw, "speciesWeights");
  Napi::Value wv = o.Get("weighting");
  if (!wv.IsUndefined() && !wv.IsNull()) {
    if (!wv.IsObject()) throwType("weighting must be an object, got " + describe(wv));
    Napi::Object w = wv.As<Napi::Object>();
    p.weighting.function = enumField<WeightFunction>(
        w, "function", "weighting.function", {"poly", "pow", "exp", "none"},
        {WeightFunction::Poly, WeightFunction::Pow, WeightFunction::Exp, WeightFunction::None}, WeightFunction::None,
        3);
    p.weighting.r0 = numberField(w, "r0", "weighting.r0", 1.0);
    p.weighting.c = numberField(w, "c", "weighting.c", 1.0);
    p.weighting.d = numberField(w, "d", "weighting.d", 1.0);
    p.weighting.m = numberField(w, "m", "weighting.m", 1.0);
    Napi::Value w0 = w.Get("w0");
    if (!w0.IsUndefined() && !w0.IsNull()) {
      p.weighting.hasW0 = true;
      p.weighting.w0 = numberField(w, "w0", "weighting.w0", 1.0);
    }
  }
  return p;
}

// A structure copied out of JavaScript memory, so async work never touches V8-owned buffers
// that user code could detach or change while the computation runs.
struct OwnedStructure {
  std::vector<double> positions;
  std::vector<int32_t> atomicNumbers;
  bool hasSpecies = false;
  CenterMode centers = CenterMode::All;
  std::vector<int64_t> centerIndices;
  std::vector<double> centerPositions;
  StructureView view() const {
    StructureView v;
    v.positions = positions.data();
    v.numPoints = static_cast<long>(positions.size() / 3);
    v.atomicNumbers = hasSpecies ? atomicNumbers.data() : nullptr;
    v.centers = centers;
    v.centerIndices = centerIndices.data();
    v.centerPositions = centerPositions.data();
    v.numCenters = centers == CenterMode::Indices     ? static_cast<long>(centerIndices.size())
                   : centers == CenterMode::Positions ? static_cast<long>(centerPositions.size() / 3)
                                                      : 0;
    return v;
  }
};

OwnedStructure parseStructure(const Napi::Value& v, const std::string& label) {
  if (!v.IsObject()) throwType(label + " must be an object with a 'positions' Float64Array");
  Napi::Object o = v.As<Napi::Object>();
  OwnedStructure s;
  s.positions = typedArrayField<double, napi_float64_array>(o.Get("positions"), label + ".positions");
  if (s.positions.size() % 3 != 0)
    throwType(label + ".positions has " + std::to_string(s.positions.size()) +
              " values; it must hold x, y, z per point (a multiple of 3)");
  Napi::Value z = o.Get("atomicNumbers");
  if (!z.IsUndefined() && !z.IsNull()) {
    s.atomicNumbers = typedArrayField<int32_t, napi_int32_array>(z, label + ".atomicNumbers");
    s.hasSpecies = true;
    if (s.atomicNumbers.size() != s.positions.size() / 3)
      throwType(label + " has " + std::to_string(s.positions.size() / 3) + " points but " +
                std::to_string(s.atomicNumbers.size()) + " species; give one species per point");
  }
  Napi::Value ci = o.Get("centerIndices");
  Napi::Value cp = o.Get("centerPositions");
  const bool hasCi = !ci.IsUndefined() && !ci.IsNull(), hasCp = !cp.IsUndefined() && !cp.IsNull();
  if (hasCi && hasCp) throwType(label + ": give centre indices or centre positions, not both");
  if (hasCi) {
    auto idx = typedArrayField<int32_t, napi_int32_array>(ci, label + ".centerIndices");
    s.centers = CenterMode::Indices;
    s.centerIndices.assign(idx.begin(), idx.end());
  } else if (hasCp) {
    s.centerPositions = typedArrayField<double, napi_float64_array>(cp, label + ".centerPositions");
    if (s.centerPositions.size() % 3 != 0)
      throwType(label + ".centerPositions must hold x, y, z per centre (a multiple of 3 values)");
    s.centers = CenterMode::Positions;
  }
  return s;
}

struct Batch {
  std::vector<OwnedStructure> structures;
  std::vector<StructureView> views;
  DType dtype = DType::Float64;
  int threads = 0;
};

Batch parseBatch(const SoapCalculator& calc, const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsArray()) throwType("structures must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  Batch b;
  b.structures.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i)
    b.structures.push_back(parseStructure(arr.Get(i), "structure " + std::to_string(i)));
  for (size_t i = 0; i < b.structures.size(); ++i) {
    b.views.push_back(b.structures[i].view());
    calc.validate(b.views.back(), "structure " + std::to_string(i));
  }
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    const std::string d = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
    if (d == "float64") b.dtype = DType::Float64;
    else if (d == "float32") b.dtype = DType::Float32;
    else throwRange("dtype must be 'float64' or 'float32', got " + describe(info[1]));
  }
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    const double t = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(t >= 0 && t <= kMaxThreads) || t != std::floor(t))
      throwRange("threads must be an integer in [0, " + std::to_string(kMaxThreads) + "] (0: all cores), got " +
                 describe(info[2]));
    b.threads = static_cast<int>(t);
  }
  return b;
}

// Output arrays are allocated on the JavaScript thread before the work starts and filled in place,
// so results are never copied (peak memory = output size + working set).
struct Outputs {
  std::vector<Napi::Reference<Napi::TypedArray>> arrays;
  std::vector<void*> data;
};

// V8 aborts the whole process when an ArrayBuffer cannot be allocated, so sizes are checked first.
void checkOutputSize(const SoapCalculator& calc, const Batch& b) {
  const double F = static_cast<double>(calc.featureCount());
  const double bytesPerValue = b.dtype == DType::Float64 ? 8.0 : 4.0;
  const double maxElements = 4294967295.0;  // V8's typed-array length limit
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  double total = 0;
  for (size_t i = 0; i < b.views.size(); ++i) {
    const double elements = static_cast<double>(calc.outputRows(b.views[i])) * F;
    if (elements > maxElements)
      throwRange("structure " + std::to_string(i) + " would produce " + formatNumber(elements) +
                 " values, more than one typed array can hold (4294967295); use fewer centres or features");
    total += elements * bytesPerValue;
  }
  if (physical > 0 && total > physical)
    throwRange("the output would need " + formatNumber(total / 1073741824.0) + " GiB, more than this machine's " +
               formatNumber(physical / 1073741824.0) + " GiB of memory; split the batch or use fewer features");
}

// --- output memory (not option handling) ---------------------------------------------------
// All outputs of a call live in one OutputBlock (output_memory.h: one allocation, huge pages, not
// zero-filled: the engine writes every value), one ArrayBuffer per structure over its part, so
// each result's `data.buffer` is its own; the block is freed when the last of them is collected.
// Sizes are reported to V8 (AdjustExternalMemory) so that garbage collection sees them. Where
// external buffers are not allowed (a V8 sandbox, as in Electron), V8's own memory is used.
template <class Array>
Array externalArray(Napi::Env env, OutputBlock* block, size_t offset, size_t n) {
  using T = typename std::remove_pointer<decltype(std::declval<Array>().Data())>::type;
  const size_t bytes = n * sizeof(T);
  auto buffer = Napi::ArrayBuffer::New(env, block->data() + offset, bytes, [block, bytes](Napi::Env e, void*) {
    Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<int64_t>(bytes));
    block->release();
  });
  block->retain();
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  return Array::New(env, n, buffer, 0);
}

template <class Array>
void allocateOutputArrays(Napi::Env env, const std::vector<size_t>& counts, Outputs& o) {
  using T = typename std::remove_pointer<decltype(std::declval<Array>().Data())>::type;
  size_t total = 0;
  for (size_t n : counts) total += outputPartBytes(n * sizeof(T));
  OutputBlock* block = total > 0 ? OutputBlock::create(total) : nullptr;  // throws std::bad_alloc
  bool external = block != nullptr;
  size_t offset = 0;
  for (size_t n : counts) {
    Array a;
    if (external && n > 0) {
      try {
        a = externalArray<Array>(env, block, offset, n);
      } catch (const Napi::Error&) {
        external = false;  // V8 refused external memory: its own from here on
      }
    }
    if (a.IsEmpty()) a = Array::New(env, n);
    offset += outputPartBytes(n * sizeof(T));
    o.data.push_back(a.Data());
    o.arrays.push_back(Napi::Persistent(a.template As<Napi::TypedArray>()));
  }
  if (block) block->release();  // the arrays hold it now (or nobody: then it is freed here)
}

Outputs allocateOutputs(Napi::Env env, const SoapCalculator& calc, const Batch& b) {
  checkOutputSize(calc, b);
  Outputs o;
  const size_t F = static_cast<size_t>(calc.featureCount());
  std::vector<size_t> counts;
  for (const StructureView& v : b.views) counts.push_back(static_cast<size_t>(calc.outputRows(v)) * F);
  if (b.dtype == DType::Float64) allocateOutputArrays<Napi::Float64Array>(env, counts, o);
  else allocateOutputArrays<Napi::Float32Array>(env, counts, o);
  return o;
}

Napi::Array outputArray(Napi::Env env, Outputs& o) {
  Napi::Array r = Napi::Array::New(env, o.arrays.size());
  for (size_t i = 0; i < o.arrays.size(); ++i) r.Set(static_cast<uint32_t>(i), o.arrays[i].Value());
  return r;
}

class ComputeWorker : public Napi::AsyncWorker {
 public:
  ComputeWorker(Napi::Env env, std::shared_ptr<const SoapCalculator> calc, Batch batch, Outputs outputs,
                std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncWorker(env, "soapix:compute"),
        deferred_(Napi::Promise::Deferred::New(env)),
        calc_(std::move(calc)),
        batch_(std::move(batch)),
        outputs_(std::move(outputs)),
        cancel_(std::move(cancel)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      calc_->compute(batch_.views, outputs_.data, batch_.dtype, batch_.threads, cancel_.get());
    } catch (const Cancelled&) {
      cancelled_ = true;
      SetError("SOAP computation was cancelled");
    } catch (const std::bad_alloc&) {
      SetError("out of memory: the request is too large");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(outputArray(Env(), outputs_)); }
  void OnError(const Napi::Error& e) override {
    Napi::Object err = e.Value();
    if (cancelled_) err.Set("name", Napi::String::New(Env(), "AbortError"));
    deferred_.Reject(err);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<const SoapCalculator> calc_;
  Batch batch_;
  Outputs outputs_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  bool cancelled_ = false;
};

class NativeSoap : public Napi::ObjectWrap<NativeSoap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(
        env, "NativeSoap",
        {InstanceAccessor<&NativeSoap::FeatureCount>("featureCount"), InstanceMethod<&NativeSoap::Basis>("basis"),
         InstanceMethod<&NativeSoap::FeatureLabels>("featureLabels"),
         InstanceMethod<&NativeSoap::ComputeSync>("computeSync"),
         InstanceMethod<&NativeSoap::ComputeAsync>("computeAsync")});
  }

  explicit NativeSoap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeSoap>(info) {
    guarded(info.Env(), [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsObject()) throwType("options must be an object");
      Napi::Object o = info[0].As<Napi::Object>();
      SoapParams p = parseParams(o);
      p.validate();
      Napi::Value bv = o.Get("basis");
      if (!bv.IsUndefined() && !bv.IsNull()) {
        if (!bv.IsObject()) throwType("basis must be an object, got " + describe(bv));
        Napi::Object b = bv.As<Napi::Object>();
        if (p.rbf == Rbf::Gto) {
          Napi::Value alphas = b.Get("alphas");
          if (alphas.IsUndefined() || alphas.IsNull()) throwType("a GTO basis needs alphas and betas");
          GtoBasis g;
          g.nMax = p.nMax;
          g.lMax = p.lMax;
          g.alphas = typedArrayField<double, napi_float64_array>(alphas, "basis.alphas");
          g.betas = typedArrayField<double, napi_float64_array>(b.Get("betas"), "basis.betas");
          calc_ = std::make_shared<SoapCalculator>(p, &g, nullptr);
        } else {
          auto betas = typedArrayField<double, napi_float64_array>(b.Get("betas"), "basis.betas");
          PolynomialBasis pb = polynomialBasisFromBetas(p.rCut, p.nMax, betas);
          calc_ = std::make_shared<SoapCalculator>(p, nullptr, &pb);
        }
      } else {
        calc_ = std::make_shared<SoapCalculator>(p, nullptr, nullptr);
      }
      return info.Env().Undefined();
    });
  }

 private:
  Napi::Value FeatureCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(calc_->featureCount()));
  }

  Napi::Value Basis(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto arr = [&](const std::vector<double>& v) {
      auto a = Napi::Float64Array::New(env, v.size());
      std::copy(v.begin(), v.end(), a.Data());
      return a;
    };
    Napi::Object o = Napi::Object::New(env);
    if (calc_->params().rbf == Rbf::Gto) {
      o.Set("alphas", arr(calc_->gtoBasis().alphas));
      o.Set("betas", arr(calc_->gtoBasis().betas));
    } else {
      const PolynomialBasis& b = calc_->polynomialBasis();
      o.Set("betas", arr(b.betas));
      o.Set("rx", arr(b.rx));
      o.Set("ws", arr(b.ws));
      o.Set("gss", arr(b.gss));
    }
    return o;
  }

  Napi::Value FeatureLabels(const Napi::CallbackInfo& info) {
    std::vector<FeatureLabel> labels = featureLabels(calc_->params());
    auto a = Napi::Int32Array::New(info.Env(), labels.size() * 5);
    for (size_t i = 0; i < labels.size(); ++i) {
      a[5 * i] = labels[i].z1;
      a[5 * i + 1] = labels[i].z2;
      a[5 * i + 2] = labels[i].l;
      a[5 * i + 3] = labels[i].n;
      a[5 * i + 4] = labels[i].nPrime;
    }
    return a;
  }

  Napi::Value ComputeSync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Batch b = parseBatch(*calc_, info);
      Outputs o = allocateOutputs(info.Env(), *calc_, b);
      calc_->compute(b.views, o.data, b.dtype, b.threads, nullptr);
      return outputArray(info.Env(), o);
    });
  }

  // computeAsync(structures, dtype, threads, token?) -> Promise<TypedArray[]>. If `token` is an
  // object, a `cancel()` function is attached to it.
  Napi::Value ComputeAsync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Batch b = parseBatch(*calc_, info);
      Outputs o = allocateOutputs(info.Env(), *calc_, b);
      auto flag = std::make_shared<std::atomic<bool>>(false);
      if (info.Length() > 3 && info[3].IsObject()) {
        info[3].As<Napi::Object>().Set(
            "cancel", Napi::Function::New(info.Env(), [flag](const Napi::CallbackInfo& ci) -> Napi::Value {
              flag->store(true);
              return ci.Env().Undefined();
            }));
      }
      auto* w = new ComputeWorker(info.Env(), calc_, std::move(b), std::move(o), flag);
      Napi::Promise pr = w->promise();
      w->Queue();
      return pr;
    });
  }

  std::shared_ptr<const SoapCalculator> calc_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeSoap", NativeSoap::Init(env));
  exports.Set("maxLMaxGto", Napi::Number::New(env, kMaxLMaxGto));
  exports.Set("maxLMaxPolynomial", Napi::Number::New(env, kMaxLMaxPolynomial));
  exports.Set("maxNMax", Napi::Number::New(env, kMaxNMax));
  exports.Set("maxCoordinate", Napi::Number::New(env, kMaxCoordinate));
  // The limits of every option, read by lib/soap/limits.ts (and through it by the CLI).
  Napi::Object limits = Napi::Object::New(env);
  limits.Set("minNMax", kMinNMax);
  limits.Set("maxNMax", kMaxNMax);
  limits.Set("minLMax", kMinLMax);
  limits.Set("maxLMaxGto", kMaxLMaxGto);
  limits.Set("maxLMaxPolynomial", kMaxLMaxPolynomial);
  limits.Set("minRCut", kMinRCut);
  limits.Set("maxRCut", kMaxRCut);
  limits.Set("minRCutGtoExclusive", kMinRCutGto);
  limits.Set("minSigma", kMinSigma);
  limits.Set("maxSigma", kMaxSigma);
  limits.Set("maxThreads", kMaxThreads);
  limits.Set("maxCoordinate", kMaxCoordinate);
  exports.Set("limits", limits);
  // checkOptions(options): throws the TypeError / RangeError the constructor would throw for these
  // options (without building the basis); soap.ts's resolveSoapOptions uses it.
  exports.Set("checkOptions", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return guarded(info.Env(), [&]() -> Napi::Value {
                  if (info.Length() < 1 || !info[0].IsObject()) throwType("options must be an object");
                  parseParams(info[0].As<Napi::Object>()).validate();
                  return info.Env().Undefined();
                });
              }));
  exports.Set("simdPath", Napi::String::New(env, simdPath()));
  // measurePeakFmaRate(seconds = 0.5) -> { gflops, isa }: single-thread peak FMA rate (benchmarks).
  exports.Set("measurePeakFmaRate", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                const double seconds =
                    info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0.5;
                std::string isa;
                const double gflops = measurePeakFmaGflops(seconds, &isa);
                Napi::Object r = Napi::Object::New(info.Env());
                r.Set("gflops", gflops);
                r.Set("isa", isa);
                return r;
              }));
  return exports;
}

}  // namespace

NODE_API_MODULE(soapix, Init)
