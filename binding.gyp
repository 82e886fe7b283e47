{
  "targets": [
    {
      "target_name": "prehash_verify",
      "sources": ["native/prehash_verify.cc"],
      "cflags_cc": ["-O2"]
    }
  ]
}
