// Verifies a signature over a precomputed digest with OpenSSL 3's EVP_PKEY_verify.
// Node's crypto.verify always hashes its input, but Sigstore logs and digest-only
// verification only have the digest. Optional: without it src/core/prehash-js.ts does
// the same in JavaScript, several times slower. Only non-deprecated EVP APIs.
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

// OpenSSL 3's generic key decoder (d2i_PUBKEY) costs ~0.1 ms, more than the ECDSA
// verification itself. SPKI of a named-curve EC key is a fixed prefix and the point,
// so those keys are built from the group name and the point (EVP_PKEY_fromdata, which
// checks the point is on the curve); anything else takes the decoder.
struct EcPrefix {
  const unsigned char* der;
  size_t len;
  const char* group;
};
static const unsigned char P256_PREFIX[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
                                            0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const unsigned char P384_PREFIX[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                            0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
static const unsigned char P521_PREFIX[] = {0x30, 0x81, 0x9b, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
                                            0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00};
static const EcPrefix EC_PREFIXES[] = {
    {P256_PREFIX, sizeof(P256_PREFIX), "P-256"},
    {P384_PREFIX, sizeof(P384_PREFIX), "P-384"},
    {P521_PREFIX, sizeof(P521_PREFIX), "P-521"},
};

// A named-curve EC key from its SPKI prefix and point; nullptr when the SPKI is not one of those.
static EVP_PKEY* ec_key_from_point(const unsigned char* spki, size_t spki_len, bool* matched) {
  *matched = false;
  for (const EcPrefix& p : EC_PREFIXES) {
    if (spki_len <= p.len || memcmp(spki, p.der, p.len) != 0) continue;
    *matched = true;
    EVP_PKEY* pkey = nullptr;
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(p.group), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<unsigned char*>(spki + p.len), spki_len - p.len),
        OSSL_PARAM_construct_end(),
    };
    if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
      EVP_PKEY_free(pkey);
      pkey = nullptr;
    }
    EVP_PKEY_CTX_free(ctx);
    return pkey;
  }
  return nullptr;
}

// RSA, or EC on one of the three curves above (the JavaScript path supports the same).
static bool supported_key(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) return true;
  if (!EVP_PKEY_is_a(pkey, "EC")) return false;
  char group[32] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) return false;
  static const char* const NAMES[] = {"prime256v1", "secp384r1", "secp521r1", "P-256", "P-384", "P-521"};
  for (const char* name : NAMES) {
    if (strcmp(group, name) == 0) return true;
  }
  return false;
}

static EVP_PKEY* decode_key(const unsigned char* spki, size_t spki_len) {
  bool matched = false;
  EVP_PKEY* pkey = ec_key_from_point(spki, spki_len, &matched);
  if (matched) return pkey;
  const unsigned char* p = spki;
  pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_len));
  // Exactly one key, nothing after it.
  if (pkey && (p != spki + spki_len || !supported_key(pkey))) {
    EVP_PKEY_free(pkey);
    pkey = nullptr;
  }
  return pkey;
}

// Per addon instance (main thread, each worker thread): the digests, fetched once (a fetch
// takes OpenSSL's method-store lock), and the last few keys decoded, by their exact SPKI
// bytes (a log verifies many signatures by one long-lived key; an unseen key costs one
// decode, as before). No locks: an instance is only used by its own thread.
struct KeyCacheEntry {
  unsigned char* spki = nullptr;
  size_t len = 0;
  EVP_PKEY* pkey = nullptr;
};
static const size_t KEY_CACHE_SIZE = 8;
static const size_t MAX_CACHED_SPKI = 1024;
struct Instance {
  EVP_MD* mds[3] = {nullptr, nullptr, nullptr};
  KeyCacheEntry keys[KEY_CACHE_SIZE];
  size_t next = 0;
};

static EVP_MD* digest_for(Instance* inst, const char* name) {
  static const char* const NAMES[] = {"sha256", "sha384", "sha512"};
  for (int i = 0; i < 3; i++) {
    if (strcmp(name, NAMES[i]) != 0) continue;
    if (inst->mds[i] == nullptr) inst->mds[i] = EVP_MD_fetch(nullptr, NAMES[i], nullptr);
    return inst->mds[i];
  }
  return nullptr;
}

// A key for these SPKI bytes (owned by the cache: not to be freed), or nullptr.
static EVP_PKEY* cached_key(Instance* inst, const unsigned char* spki, size_t spki_len) {
  for (KeyCacheEntry& e : inst->keys) {
    if (e.pkey && e.len == spki_len && memcmp(e.spki, spki, spki_len) == 0) return e.pkey;
  }
  EVP_PKEY* pkey = decode_key(spki, spki_len);
  if (pkey == nullptr || spki_len > MAX_CACHED_SPKI) return pkey;  // caller frees an uncached key
  KeyCacheEntry& slot = inst->keys[inst->next++ % KEY_CACHE_SIZE];
  unsigned char* copy = new unsigned char[spki_len];
  memcpy(copy, spki, spki_len);
  EVP_PKEY_free(slot.pkey);
  delete[] slot.spki;
  slot.spki = copy;
  slot.len = spki_len;
  slot.pkey = pkey;
  return pkey;
}

static bool verify_digest(Instance* inst, const unsigned char* spki, size_t spki_len, const unsigned char* dgst, size_t dgst_len,
                          const unsigned char* sig, size_t sig_len, const char* hash_name) {
  EVP_MD* md = digest_for(inst, hash_name);
  if (md == nullptr || static_cast<size_t>(EVP_MD_get_size(md)) != dgst_len) return false;
  EVP_PKEY* pkey = cached_key(inst, spki, spki_len);
  if (pkey == nullptr) return false;
  bool ok = false;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  if (ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
      (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1)) {
    ok = EVP_PKEY_verify(ctx, sig, sig_len, dgst, dgst_len) == 1;
  }
  EVP_PKEY_CTX_free(ctx);
  if (spki_len > MAX_CACHED_SPKI) EVP_PKEY_free(pkey);
  return ok;
}

static void free_instance(napi_env, void* data, void*) {
  Instance* inst = static_cast<Instance*>(data);
  for (EVP_MD* md : inst->mds) EVP_MD_free(md);
  for (KeyCacheEntry& e : inst->keys) {
    EVP_PKEY_free(e.pkey);
    delete[] e.spki;
  }
  delete inst;
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
  Instance* inst = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&inst));
  napi_value result;
  napi_get_boolean(env, inst != nullptr && verify_digest(inst, spki, spki_len, dgst, dgst_len, sig, sig_len, hash_name), &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_set_instance_data(env, new Instance(), free_instance, nullptr);
  napi_value fn;
  napi_create_function(env, "verify", NAPI_AUTO_LENGTH, Verify, nullptr, &fn);
  napi_set_named_property(env, exports, "verify", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
