/* The same decoder through the C ABI: prints the shape and the sum. */
#include <stdio.h>
#include <stdlib.h>

#include "cc/tensor_file.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s IN.tct\n", argv[0]);
    return 2;
  }
  FILE* file = fopen(argv[1], "rb");
  if (!file) return 1;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char* data = malloc(size > 0 ? size : 1);
  if (fread(data, 1, size, file) != (size_t)size) return 1;
  fclose(file);
  int32_t* values = NULL;
  size_t count = 0;
  int64_t shape[32];
  int rank = 0;
  char error[256];
  int code = tc_decode_tensor_file(data, size, &values, &count, shape, &rank,
                                   error, sizeof(error));
  free(data);
  if (code != 0) {
    fprintf(stderr, "error %d: %s\n", code, error);
    return 1;
  }
  long long sum = 0;
  for (size_t i = 0; i < count; ++i) sum += values[i];
  printf("rank %d, %zu values, sum %lld\n", rank, count, sum);
  tc_free(values);
  return 0;
}
