/* The compute of podgap's training step in C on OpenBLAS: forward sgemm + ReLU per layer, the
 * mean-squared-error output gradient, backward sgemm for weight and input gradients with the
 * ReLU mask, and the SGD saxpy, on the same shapes. One process, no MPI, OpenBLAS threads as
 * OpenBLAS chooses (podgap uses cores / ranks-on-node, i.e. all cores for one rank).
 * Usage: gemm_step LAYERS BATCH STEPS WARMUP   e.g. gemm_step 1024,4096,4096,1024 64 10 2
 * Prints: median compute seconds per step, flops per step, GFLOP/s. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float uniform(unsigned long long *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*state >> 40) * (1.0 / 16777216.0) * 2 - 1);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s LAYERS BATCH STEPS WARMUP\n", argv[0]); return 2; }
    int widths[64], count = 0;
    for (char *part = strtok(argv[1], ","); part && count < 64; part = strtok(NULL, ",")) widths[count++] = atoi(part);
    int batch = atoi(argv[2]), steps = atoi(argv[3]), warmup = atoi(argv[4]), layers = count - 1;
    long offsets[65] = {0}, widest = 0;
    for (int l = 0; l < layers; l++) offsets[l + 1] = offsets[l] + (long)widths[l] * widths[l + 1];
    for (int l = 0; l <= layers; l++) if (widths[l] > widest) widest = widths[l];
    float *weights = malloc(offsets[layers] * sizeof(float)), *gradients = malloc(offsets[layers] * sizeof(float));
    float *activations[65], *delta = malloc(batch * widest * sizeof(float)), *next = malloc(batch * widest * sizeof(float));
    float *targets = malloc((long)batch * widths[layers] * sizeof(float));
    unsigned long long state = 1;
    for (long i = 0; i < offsets[layers]; i++) weights[i] = uniform(&state) * 0.05f;
    for (int l = 0; l <= layers; l++) activations[l] = calloc((long)batch * widths[l], sizeof(float));
    double flops = 0;
    for (int l = 0; l < layers; l++) flops += 2.0 * batch * widths[l] * widths[l + 1] * (l > 0 ? 3 : 2);

    double *times = malloc((steps + warmup) * sizeof(double));
    for (int step = 0; step < steps + warmup; step++) {
        for (long i = 0; i < (long)batch * widths[0]; i++) activations[0][i] = uniform(&state);
        for (long i = 0; i < (long)batch * widths[layers]; i++) targets[i] = uniform(&state);
        double start = now();
        for (int l = 0; l < layers; l++) {
            float *out = activations[l + 1];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, widths[l + 1], widths[l], 1,
                        activations[l], widths[l], weights + offsets[l], widths[l], 0, out, widths[l + 1]);
            if (l < layers - 1)
                for (long i = 0; i < (long)batch * widths[l + 1]; i++) if (out[i] < 0) out[i] = 0;
        }
        float scale = 2.0f / ((float)batch * widths[layers]);
        double loss = 0;
        for (long i = 0; i < (long)batch * widths[layers]; i++) {
            float d = activations[layers][i] - targets[i];
            loss += (double)(d * d);
            delta[i] = d * scale;
        }
        for (int l = layers - 1; l >= 0; l--) {
            int in = widths[l], out = widths[l + 1];
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, batch, 1,
                        delta, out, activations[l], in, 0, gradients + offsets[l], in);
            if (l == 0) break;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in, out, 1,
                        delta, out, weights + offsets[l], in, 0, next, in);
            for (long i = 0; i < (long)batch * in; i++) if (activations[l][i] <= 0) next[i] = 0;
            float *swap = delta; delta = next; next = swap;
        }
        cblas_saxpy(offsets[layers], -0.01f, gradients, 1, weights, 1);
        times[step] = now() - start;
        if (loss < 0) puts("");  /* keeps the loss computation alive */
    }
    qsort(times + warmup, steps, sizeof(double), compare);
    double median = steps % 2 ? times[warmup + steps / 2] : (times[warmup + steps / 2 - 1] + times[warmup + steps / 2]) / 2;
    printf("%.9f %.0f %.3f\n", median, flops, flops / median / 1e9);
    return 0;
}
