/* osu_allreduce's timing loop in plain C, measured the way podgap measures: a barrier before
 * every iteration (outside the timed region), MPI_Wtime around one MPI_Allreduce, each
 * iteration's time the slowest rank's, then the median. Prints "bytes median_seconds" per size. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    /* The thread level podgap asks for (OpenBLAS and its watchdog are threads; only main calls MPI).
     * Open MPI's small-message path costs ~0.1 us more under FUNNELED than SINGLE on this machine. */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long low = argc > 1 ? atol(argv[1]) : 4, high = argc > 2 ? atol(argv[2]) : 1 << 20;
    /* Page-aligned, as osu_allreduce allocates (and podgap does). */
    float *source, *result;
    if (posix_memalign((void **)&source, 4096, high) || posix_memalign((void **)&result, 4096, high)) MPI_Abort(MPI_COMM_WORLD, 1);
    for (long i = 0; i < high / 4; i++) source[i] = (float)((rank + 1) * (i % 7 + 1));
    for (long bytes = low; bytes <= high; bytes *= 2) {
        int iterations = bytes > 8192 ? 100 : 1000, warmup = bytes > 8192 ? 10 : 100;
        int count = (int)(bytes / 4);
        double *samples = malloc(sizeof(double) * iterations);
        for (int i = 0; i < warmup + iterations; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            MPI_Allreduce(source, result, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double elapsed = MPI_Wtime() - start;
            if (i >= warmup) samples[i - warmup] = elapsed;
        }
        MPI_Allreduce(MPI_IN_PLACE, samples, iterations, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        qsort(samples, iterations, sizeof(double), compare);
        double median = iterations % 2 ? samples[iterations / 2]
                                       : (samples[iterations / 2 - 1] + samples[iterations / 2]) / 2;
        if (rank == 0) printf("%ld %.9e\n", bytes, median);
        free(samples);
    }
    free(source);
    free(result);
    MPI_Finalize();
    return 0;
}
