{
  "targets": [
    {
      "target_name": "qpeft_blas",
      "sources": ["qpeft_blas.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-ldl"]
    }
  ]
}
