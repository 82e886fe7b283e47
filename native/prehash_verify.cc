// Verifies a signature over a precomputed digest with OpenSSL's EVP_PKEY_verify.
// Node's crypto.verify always hashes its input, but Sigstore logs and digest-only
// verification only have the digest; a JavaScript ECDSA is ~30x slower than OpenSSL.
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

static bool get_buffer(napi_env env, napi_value v, const unsigned char** data, size_t* len) {
  bool is_buffer = false;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) return false;
  void* p = nullptr;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return false;
  *data = static_cast<const unsigned char*>(p);
  return true;
}

// verify(spkiDer: Buffer, digest: Buffer, signature: Buffer, hashName: string): boolean
static napi_value Verify(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  const unsigned char *spki, *dgst, *sig;
  size_t spki_len, dgst_len, sig_len;
  if (argc < 4 || !get_buffer(env, args[0], &spki, &spki_len) || !get_buffer(env, args[1], &dgst, &dgst_len) ||
      !get_buffer(env, args[2], &sig, &sig_len)) {
    napi_throw_type_error(env, nullptr, "verify(spkiDer, digest, signature, hashName) expects three Buffers and a string");
    return nullptr;
  }
  char hash_name[16] = {0};
  size_t hash_len = 0;
  if (napi_get_value_string_utf8(env, args[3], hash_name, sizeof(hash_name), &hash_len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "hashName must be a string");
    return nullptr;
  }
  const EVP_MD* md = EVP_get_digestbyname(hash_name);
  bool ok = false;
  const unsigned char* p = spki;
  EVP_PKEY* pkey = md ? d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_len)) : nullptr;
  if (pkey && static_cast<size_t>(EVP_MD_get_size(md)) == dgst_len) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(pkey, nullptr);
    if (ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1) {
      ok = EVP_PKEY_verify(ctx, sig, sig_len, dgst, dgst_len) == 1;
    }
    EVP_PKEY_CTX_free(ctx);
  }
  EVP_PKEY_free(pkey);
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "verify", NAPI_AUTO_LENGTH, Verify, nullptr, &fn);
  napi_set_named_property(env, exports, "verify", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
