/* Minimise f(x) = sum (x_i - 3)^2 with SwiftAdam.
 *   After `make install`:  cc examples/hello.c $(pkg-config --cflags --libs swiftadam) -o hello
 *   (a PREFIX outside the loader's path also needs -Wl,-rpath,$(pkg-config --variable=libdir swiftadam))
 *   From the build tree:   cc -Iinclude examples/hello.c -L.build/release -lSwiftAdam -Wl,-rpath,$PWD/.build/release -o hello */
#include <stdio.h>
#include "swiftadam.h"

int main(void) {
    float x[4] = {0, 1, -2, 10}, grad[4];
    size_t len = 4;
    swiftadam_config cfg;
    swiftadam_config_init(&cfg, sizeof cfg);
    cfg.lr = 0.1;
    swiftadam_state *opt = NULL;
    if (swiftadam_create(&len, 1, &cfg, &opt) != SWIFTADAM_OK) {
        fprintf(stderr, "create failed: %s\n", swiftadam_last_error());
        return 1;
    }
    for (int step = 0; step < 500; step++) {
        for (int i = 0; i < 4; i++) grad[i] = 2 * (x[i] - 3);
        int32_t rc = swiftadam_step_tensor(opt, x, grad, len, 0);
        if (rc != SWIFTADAM_OK) { fprintf(stderr, "%s: %s\n", swiftadam_status_name(rc), swiftadam_last_error()); return 1; }
    }
    printf("x = %.4f %.4f %.4f %.4f (backend %s)\n", x[0], x[1], x[2], x[3], swiftadam_backend_name());
    swiftadam_free(opt);
    return 0;
}
