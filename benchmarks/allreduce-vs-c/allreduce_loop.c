/* osu_allreduce's definition in plain C (OMB 7.2, c/mpi/collective/blocking/osu_allreduce.c and
 * c/util/osu_util.h), so podgap's OSU columns can be checked against it number for number:
 * - buffers of the largest size, page-aligned, allocated once and used for every size;
 * - sizes are powers of two from LOW to HIGH; a size below one element is skipped;
 * - 1000 timed calls after 100 skipped up to 8192 bytes (LARGE_MESSAGE_SIZE), 100 after 10 above;
 * - one barrier before each size; then per call: MPI_Wtime, MPI_Allreduce, MPI_Wtime, and a
 *   barrier after it, outside the timed region;
 * - each rank's latency is the sum of its timed calls divided by the calls; Avg is the sum of the
 *   latencies over ranks divided by the ranks, Min and Max their extremes (MPI_Reduce to rank 0).
 * One difference from osu_allreduce, on purpose: MPI_FLOAT (osu_allreduce -T mpi_float; its default
 * is MPI_CHAR). Like osu_allreduce it calls MPI_Init (thread level single), as podgap's allreduce
 * asks for; a third argument "funneled" runs it at MPI_THREAD_FUNNELED instead, which Open MPI 4.1
 * makes about 0.3 us slower at 4 B over shared memory (benchmarks/README).
 * Prints "bytes avg_us min_us max_us" per size, as osu_allreduce -f prints them.
 * Usage: allreduce_loop [LOW [HIGH [funneled]]]   (default 4 1048576) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int provided, rank, ranks;
    if (argc > 3 && strcmp(argv[3], "funneled") == 0) MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    else MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    long low = argc > 1 ? atol(argv[1]) : 4, high = argc > 2 ? atol(argv[2]) : 1 << 20;
    float *source, *result;
    long page = sysconf(_SC_PAGESIZE);
    if (posix_memalign((void **)&source, page, high) || posix_memalign((void **)&result, page, high))
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (long i = 0; i < high / (long)sizeof(float); i++) { source[i] = 1; result[i] = 0; }
    int iterations = 1000, skip = 100;
    for (long bytes = low; bytes <= high; bytes *= 2) {
        int count = (int)(bytes / sizeof(float));
        if (count == 0) continue;
        if (bytes > 8192) { iterations = 100; skip = 10; }
        MPI_Barrier(MPI_COMM_WORLD);
        double timer = 0;
        for (int i = 0; i < iterations + skip; i++) {
            double start = MPI_Wtime();
            MPI_Allreduce(source, result, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double stop = MPI_Wtime();
            MPI_Barrier(MPI_COMM_WORLD);
            if (i >= skip) timer += stop - start;
        }
        double latency = timer * 1e6 / iterations, least, most, sum;
        MPI_Reduce(&latency, &least, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
        MPI_Reduce(&latency, &most, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        MPI_Reduce(&latency, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rank == 0) printf("%ld %.4f %.4f %.4f\n", bytes, sum / ranks, least, most);
        MPI_Barrier(MPI_COMM_WORLD);
    }
    free(source);
    free(result);
    MPI_Finalize();
    return 0;
}
