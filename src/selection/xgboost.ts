/**
 * XGBoost through its C API (Debian `libxgboost0` 1.7.4, `libxgboost.so.0`) called with the `koffi` FFI:
 * gradient-boosted regression trees, their gain importance and exact TreeSHAP contributions
 * (`XGBoosterPredict` option mask 4 = `pred_contribs`; Lundberg, Erion & Lee, "Consistent Individualized
 * Feature Attribution for Tree Ensembles", 2018, Algorithm 2). C API reference:
 * https://xgboost.readthedocs.io/en/release_1.7.0/c.html.
 *
 * Data cross the boundary as row-major float32 (XGBoost's own precision; NaN = missing). Parameters are
 * XGBoost's own names (`tree_method`, `max_depth`, `eta`, `nthread`, `seed`, …); set `nthread` 1 and
 * `tree_method` "exact" for results identical to the Python package on the same library.
 *
 * The library is loaded on first use. @throws ConfigError when it cannot be loaded (install
 * `libxgboost0`), XgboostError with XGBoost's last error message when a call fails.
 */
import koffi from "koffi";
import { ConfigError } from "../core/errors.js";

/** A failed XGBoost C API call: the function and `XGBGetLastError()`. */
export class XgboostError extends Error {
  override readonly name = "XgboostError";
}

interface Api {
  readonly lastError: () => string;
  readonly dmCreate: (
    data: Float32Array,
    nrow: number,
    ncol: number,
    missing: number,
    out: unknown[],
  ) => number;
  readonly dmSetFloat: (h: unknown, field: string, data: Float32Array, len: number) => number;
  readonly dmFree: (h: unknown) => number;
  readonly bCreate: (dmats: unknown[], len: number, out: unknown[]) => number;
  readonly bFree: (h: unknown) => number;
  readonly bSetParam: (h: unknown, k: string, v: string) => number;
  readonly bUpdate: (h: unknown, iter: number, d: unknown) => number;
  readonly bPredict: (
    h: unknown,
    d: unknown,
    mask: number,
    ntree: number,
    training: number,
    len: unknown[],
    res: unknown[],
  ) => number;
  readonly bScore: (
    h: unknown,
    cfg: string,
    nf: unknown[],
    names: unknown[],
    dim: unknown[],
    shape: unknown[],
    scores: unknown[],
  ) => number;
}

let api: Api | null = null;

/** Candidate library names, Debian's first. */
const LIBS = ["libxgboost.so.0", "libxgboost.so"];

function load(): Api {
  if (api) return api;
  let lib: ReturnType<typeof koffi.load> | null = null;
  const errors: string[] = [];
  for (const name of LIBS) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (!lib)
    throw new ConfigError(
      `XGBoost C library not found (install Debian's libxgboost0: apt-get install -y libxgboost0): ${errors.join("; ")}`,
    );
  koffi.opaque("XGDMatrixT");
  koffi.opaque("XGBoosterT");
  const DM = koffi.pointer("XGDMatrixT");
  const BH = koffi.pointer("XGBoosterT");
  void DM;
  void BH;
  api = {
    lastError: lib.func("const char *XGBGetLastError()") as () => string,
    dmCreate: lib.func(
      "int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, _Out_ XGDMatrixT **out)",
    ),
    dmSetFloat: lib.func(
      "int XGDMatrixSetFloatInfo(XGDMatrixT *h, const char *field, const float *arr, uint64_t len)",
    ),
    dmFree: lib.func("int XGDMatrixFree(XGDMatrixT *h)"),
    bCreate: lib.func("int XGBoosterCreate(XGDMatrixT **dmats, uint64_t len, _Out_ XGBoosterT **out)"),
    bFree: lib.func("int XGBoosterFree(XGBoosterT *h)"),
    bSetParam: lib.func("int XGBoosterSetParam(XGBoosterT *h, const char *k, const char *v)"),
    bUpdate: lib.func("int XGBoosterUpdateOneIter(XGBoosterT *h, int iter, XGDMatrixT *d)"),
    bPredict: lib.func(
      "int XGBoosterPredict(XGBoosterT *h, XGDMatrixT *d, int mask, unsigned int ntree, int training, _Out_ uint64_t *len, _Out_ const float **res)",
    ),
    bScore: lib.func(
      "int XGBoosterFeatureScore(XGBoosterT *h, const char *cfg, _Out_ uint64_t *nf, _Out_ const char ***names, _Out_ uint64_t *dim, _Out_ const uint64_t **shape, _Out_ const float **scores)",
    ),
  };
  return api;
}

function check(a: Api, rc: number, fn: string): void {
  if (rc !== 0) throw new XgboostError(`XGBoost ${fn} failed: ${a.lastError()}`);
}

/** Column-major columns → row-major float32 (NaN stays NaN = missing). */
function rowMajor(X: readonly Float64Array[]): { data: Float32Array; n: number; f: number } {
  const f = X.length;
  const n = X[0]?.length ?? 0;
  const data = new Float32Array(n * f);
  for (let j = 0; j < f; j++) {
    const c = X[j]!;
    if (c.length !== n) throw new ConfigError("xgboost: feature columns differ in length");
    for (let i = 0; i < n; i++) data[i * f + j] = c[i]!;
  }
  return { data, n, f };
}

function dmatrix(a: Api, X: readonly Float64Array[]): unknown {
  const { data, n, f } = rowMajor(X);
  const out: unknown[] = [null];
  check(a, a.dmCreate(data, n, f, Number.NaN, out), "XGDMatrixCreateFromMat");
  return out[0];
}

/** A trained booster. Call `free()` when done (native memory). */
export interface XgbModel {
  /** Predictions (float32 values as numbers), one per row. */
  predict(X: readonly Float64Array[]): Float64Array;
  /** Exact TreeSHAP contributions: rows × (features + 1) row-major, the last column the bias. */
  contributions(X: readonly Float64Array[]): Float64Array;
  /** Importance per feature index ("gain" = mean, "total_gain" = sum over the feature's splits; 0 if unused). */
  importance(type: "gain" | "total_gain" | "weight"): Float64Array;
  free(): void;
}

/**
 * Trains `rounds` boosting rounds on column-major X (NaN = missing) and y.
 * @throws ConfigError (library missing, bad shapes), XgboostError (a failed call, e.g. a bad parameter)
 */
export function trainXgboost(
  X: readonly Float64Array[],
  y: Float64Array,
  params: Readonly<Record<string, string | number>>,
  rounds: number,
): XgbModel {
  const a = load();
  const nf = X.length;
  if (nf === 0 || X[0]!.length !== y.length)
    throw new ConfigError("xgboost: need ≥ 1 feature column as long as y");
  const d = dmatrix(a, X);
  let booster: unknown = null;
  try {
    check(a, a.dmSetFloat(d, "label", Float32Array.from(y), y.length), "XGDMatrixSetFloatInfo");
    const out: unknown[] = [null];
    check(a, a.bCreate([d], 1, out), "XGBoosterCreate");
    booster = out[0];
    for (const [k, v] of Object.entries(params))
      check(a, a.bSetParam(booster, k, String(v)), `SetParam ${k}`);
    for (let i = 0; i < rounds; i++) check(a, a.bUpdate(booster, i, d), "XGBoosterUpdateOneIter");
  } catch (e) {
    if (booster) a.bFree(booster);
    throw e;
  } finally {
    a.dmFree(d);
  }
  const b = booster;
  let freed = false;
  const live = () => {
    if (freed) throw new ConfigError("xgboost: the model was freed");
  };
  const predictMask = (X2: readonly Float64Array[], mask: number): Float64Array => {
    live();
    if (X2.length !== nf) throw new ConfigError(`xgboost: model has ${nf} features, got ${X2.length}`);
    const dm = dmatrix(a, X2);
    try {
      const len: unknown[] = [0];
      const res: unknown[] = [null];
      check(a, a.bPredict(b, dm, mask, 0, 0, len, res), "XGBoosterPredict");
      const n = Number(len[0]);
      return Float64Array.from(koffi.decode(res[0], "float", n) as ArrayLike<number>);
    } finally {
      a.dmFree(dm);
    }
  };
  return {
    predict: (X2) => predictMask(X2, 0),
    contributions: (X2) => predictMask(X2, 4),
    importance(type) {
      live();
      const n: unknown[] = [0];
      const names: unknown[] = [null];
      const dim: unknown[] = [0];
      const shape: unknown[] = [null];
      const scores: unknown[] = [null];
      check(
        a,
        a.bScore(b, JSON.stringify({ importance_type: type, feature_map: "" }), n, names, dim, shape, scores),
        "XGBoosterFeatureScore",
      );
      const k = Number(n[0]);
      const out = new Float64Array(nf);
      if (k === 0) return out;
      const nm = koffi.decode(names[0], "const char *", k) as string[];
      const sc = koffi.decode(scores[0], "float", k) as ArrayLike<number>;
      for (let j = 0; j < k; j++) {
        const idx = Number(nm[j]!.slice(1)); // "f<j>"
        if (Number.isInteger(idx) && idx >= 0 && idx < nf) out[idx] = sc[j]!;
      }
      return out;
    },
    free() {
      if (!freed) a.bFree(b);
      freed = true;
    },
  };
}
