/*
 * qpeft_blas: OpenBLAS's single-precision GEMM for the tfjs wasm backend's matMul (src/tf/native-matmul.ts).
 *
 * Why: tfjs-backend-wasm multiplies with XNNPACK compiled to 128-bit wasm SIMD; on the 2-core Xeons these
 * projects run on, a 4096×1024×1024 float32 product reaches ~10 GFLOP/s there and ~78 GFLOP/s in OpenBLAS
 * (one thread, AVX-512), and that product is 2/3 of a LoRA layer step. OpenBLAS is a Debian package
 * (libopenblas0-pthread, installed by scripts/setup-apt.sh); it is opened with dlopen at run time, so this
 * addon builds without it and reports "unavailable" where it is absent.
 *
 * The operands are typed arrays over the wasm heap (no copy). Every extent is checked here against the
 * arrays' lengths before OpenBLAS is called, so a wrong shape from JavaScript is an exception, never a
 * read or write outside the heap.
 */
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* CBLAS enums by value (no cblas.h needed at build time). */
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);

static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;
static get_threads_fn get_threads = NULL;
static char loaded_from[512] = "";

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/* load(candidates: string[]) -> string | null: the first library that has cblas_sgemm. */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (sgemm == NULL) {
    uint32_t n = 0;
    if (argc < 1 || napi_get_array_length(env, argv[0], &n) != napi_ok)
      return throw_error(env, "load expects an array of library paths");
    for (uint32_t i = 0; i < n && sgemm == NULL; i++) {
      napi_value item;
      char path[512];
      size_t len = 0;
      napi_get_element(env, argv[0], i, &item);
      if (napi_get_value_string_utf8(env, item, path, sizeof path, &len) != napi_ok) continue;
      void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
      if (h == NULL) continue;
      sgemm_fn f = (sgemm_fn)dlsym(h, "cblas_sgemm");
      if (f == NULL) {
        dlclose(h);
        continue;
      }
      sgemm = f;
      set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
      get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
      snprintf(loaded_from, sizeof loaded_from, "%s", path);
    }
  }
  if (sgemm == NULL) {
    napi_get_null(env, &result);
    return result;
  }
  napi_create_string_utf8(env, loaded_from, NAPI_AUTO_LENGTH, &result);
  return result;
}

/* setThreads(n) -> threads in use afterwards (or -1 when the library cannot say). */
static napi_value threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t n = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1 && napi_get_value_int32(env, argv[0], &n) == napi_ok && n > 0 && set_threads != NULL)
    set_threads(n);
  napi_create_int32(env, get_threads != NULL ? get_threads() : -1, &result);
  return result;
}

static int get_f32(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *ptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)ptr;
  return 1;
}

/*
 * gemm(transA, transB, batch, m, n, k, a, strideA, b, strideB, c) with row-major operands:
 * c[i] = op(a[i·strideA]) · op(b[i·strideB]) for i < batch, op(a) m×k, op(b) k×n, c m×n contiguous.
 * A stride of 0 broadcasts that operand over the batch.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 11) return throw_error(env, "gemm expects 11 arguments");
  if (sgemm == NULL) return throw_error(env, "gemm: no BLAS library is loaded");
  bool ta, tb;
  double dims[6]; /* batch m n k strideA strideB as doubles: checked to be exact non-negative integers */
  const int dim_args[6] = {2, 3, 4, 5, 7, 9};
  if (napi_get_value_bool(env, argv[0], &ta) != napi_ok || napi_get_value_bool(env, argv[1], &tb) != napi_ok)
    return throw_error(env, "gemm: transA and transB must be booleans");
  for (int i = 0; i < 6; i++) {
    if (napi_get_value_double(env, argv[dim_args[i]], &dims[i]) != napi_ok || dims[i] < 0 ||
        dims[i] > 2147483647.0 || dims[i] != (double)(int64_t)dims[i])
      return throw_error(env, "gemm: sizes and strides must be integers in [0, 2^31)");
  }
  int64_t batch = (int64_t)dims[0], m = (int64_t)dims[1], n = (int64_t)dims[2], k = (int64_t)dims[3];
  int64_t sa = (int64_t)dims[4], sb = (int64_t)dims[5];
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!get_f32(env, argv[6], &a, &la) || !get_f32(env, argv[8], &b, &lb) || !get_f32(env, argv[10], &c, &lc))
    return throw_error(env, "gemm: a, b and c must be Float32Arrays");
  if (batch == 0 || m == 0 || n == 0) return NULL;
  /* Extents: the last element each operand reaches must lie inside its array. */
  if ((uint64_t)(batch * m * n) > lc) return throw_error(env, "gemm: c is shorter than batch·m·n");
  if (k > 0) {
    if ((uint64_t)((batch - 1) * sa + m * k) > la) return throw_error(env, "gemm: a is shorter than its extent");
    if ((uint64_t)((batch - 1) * sb + k * n) > lb) return throw_error(env, "gemm: b is shorter than its extent");
  } else {
    memset(c, 0, (size_t)(batch * m * n) * sizeof(float));
    return NULL;
  }
  int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    sgemm(ROW_MAJOR, ta ? TRANS : NO_TRANS, tb ? TRANS : NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a + i * sa, lda,
          b + i * sb, ldb, 0.0f, c + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
