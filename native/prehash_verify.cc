// Verifies a signature over a precomputed digest with OpenSSL's EVP_PKEY_verify.
// Node's crypto.verify always hashes its input, but Sigstore logs and digest-only
// verification only have the digest; a JavaScript ECDSA is ~30x slower than OpenSSL.
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <string.h>

// OpenSSL 3's generic key decoder (d2i_PUBKEY) costs ~0.1 ms, more than the ECDSA
// verification itself. SPKI of a named-curve EC key is a fixed prefix and the point,
// so those keys are built directly from the point; anything else takes the slow path.
struct EcPrefix {
  const unsigned char* der;
  size_t len;
  int nid;
};
static const unsigned char P256_PREFIX[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                            0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const unsigned char P384_PREFIX[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                            0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
static const unsigned char P521_PREFIX[] = {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                            0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00};
static const EcPrefix EC_PREFIXES[] = {
    {P256_PREFIX, sizeof(P256_PREFIX), NID_X9_62_prime256v1},
    {P384_PREFIX, sizeof(P384_PREFIX), NID_secp384r1},
    {P521_PREFIX, sizeof(P521_PREFIX), NID_secp521r1},
};

// Returns 1 or 0 when the key is a named-curve EC key handled here, -1 otherwise.
static int verify_ec_fast(const unsigned char* spki, size_t spki_len, const unsigned char* dgst, size_t dgst_len,
                          const unsigned char* sig, size_t sig_len) {
  for (const EcPrefix& p : EC_PREFIXES) {
    if (spki_len <= p.len || memcmp(spki, p.der, p.len) != 0) continue;
    EC_KEY* key = EC_KEY_new_by_curve_name(p.nid);
    if (!key) return 0;
    int ok = 0;
    // oct2key checks that the point is on the curve.
    if (EC_KEY_oct2key(key, spki + p.len, spki_len - p.len, nullptr) == 1) {
      ok = ECDSA_verify(0, dgst, static_cast<int>(dgst_len), sig, static_cast<int>(sig_len), key) == 1;
    }
    EC_KEY_free(key);
    return ok;
  }
  return -1;
}

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
  if (md && static_cast<size_t>(EVP_MD_get_size(md)) == dgst_len) {
    int fast = verify_ec_fast(spki, spki_len, dgst, dgst_len, sig, sig_len);
    if (fast >= 0) {
      napi_value result;
      napi_get_boolean(env, fast == 1, &result);
      return result;
    }
  }
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
