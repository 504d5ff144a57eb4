{
  "targets": [
    {
      "target_name": "fdpass",
      "sources": ["src/native/fdpass.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
