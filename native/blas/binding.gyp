{
  "targets": [
    {
      "target_name": "qpeft_blas",
      "sources": ["qpeft_blas.c"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd", "-Wall"],
      "libraries": ["-ldl", "-lm"]
    }
  ]
}
