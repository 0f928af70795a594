/* The exchange of podgap's halo kernel in C with the same MPI calls: MPI_Dims_create,
 * MPI_Cart_create, MPI_Cart_shift, then per iteration MPI_Irecv for every face first, pack and
 * MPI_Isend each face, MPI_Waitall, unpack, and the same star-stencil Jacobi update (float64).
 * Usage: halo_exchange DIMS LOCAL WIDTH ITERATIONS WARMUP PERIODIC
 *        e.g. mpirun -np 2 halo_exchange 2 512x512 1 100 10 0
 * Rank 0 prints: median exchange seconds, median iteration seconds, minimum exchange seconds
 * (each iteration's slowest rank). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int count) {
    qsort(values, count, sizeof(double), compare);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

static int n[3], g[3];
static long s0, s1;
static long at(int i0, int i1, int i2) { return (long)(i0 + g[0]) * s0 + (long)(i1 + g[1]) * s1 + (i2 + g[2]); }

/* Copies a box [lo, hi) between the grid and a contiguous buffer; into_grid picks the direction. */
/* A 2-D grid is one cell deep along the last axis: its contiguous runs lie along axis 1, as in podgap. */
static int flat(void) { return n[2] == 1 && g[2] == 0; }

static void copy_box(double *grid, double *buffer, const int *lo, const int *hi, int into_grid) {
    long next = 0, run = flat() ? hi[1] - lo[1] : hi[2] - lo[2];
    for (int i0 = lo[0]; i0 < hi[0]; i0++)
        for (int i1 = lo[1]; i1 < (flat() ? lo[1] + 1 : hi[1]); i1++) {
            if (into_grid) memcpy(grid + at(i0, i1, lo[2]), buffer + next, run * sizeof(double));
            else memcpy(buffer + next, grid + at(i0, i1, lo[2]), run * sizeof(double));
            next += run;
        }
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (argc != 7) { fprintf(stderr, "usage: %s DIMS LOCAL WIDTH ITERATIONS WARMUP PERIODIC\n", argv[0]); MPI_Abort(MPI_COMM_WORLD, 2); }
    int axes = atoi(argv[1]), width = atoi(argv[3]), iterations = atoi(argv[4]), warmup = atoi(argv[5]), periodic = atoi(argv[6]);
    n[0] = n[1] = n[2] = 1;
    char *text = strdup(argv[2]);
    int k = 0;
    for (char *part = strtok(text, "x"); part && k < 3; part = strtok(NULL, "x")) n[k++] = atoi(part);
    for (int a = 0; a < 3; a++) g[a] = a < axes ? width : 0;
    s1 = n[2] + 2 * g[2]; s0 = (n[1] + 2 * g[1]) * s1;
    long storage = (n[0] + 2 * g[0]) * s0;

    int size, dims[3] = {0, 0, 0}, periods[3] = {periodic, periodic, periodic};
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Dims_create(size, axes, dims);
    MPI_Comm grid_comm;
    MPI_Cart_create(MPI_COMM_WORLD, axes, dims, periods, 0, &grid_comm);
    int rank;
    MPI_Comm_rank(grid_comm, &rank);

    double *current = malloc(storage * sizeof(double)), *next = malloc(storage * sizeof(double));
    for (long i = 0; i < storage; i++) current[i] = next[i] = 1.0;
    for (int i0 = 0; i0 < n[0]; i0++) for (int i1 = 0; i1 < n[1]; i1++) for (int i2 = 0; i2 < n[2]; i2++)
        current[at(i0, i1, i2)] = (double)((i0 * 31 + i1 * 17 + i2 * 7 + rank) % 101) / 101;

    /* Faces: for each axis with a neighbour below/above, boxes to send and to receive into. */
    int faces = 0, neighbour[6], tag_in[6], tag_out[6], send_lo[6][3], send_hi[6][3], recv_lo[6][3], recv_hi[6][3];
    double *out[6], *in[6];
    for (int a = 0; a < axes; a++) {
        int below, above;
        MPI_Cart_shift(grid_comm, a, 1, &below, &above);
        for (int upper = 0; upper < 2; upper++) {
            int peer = upper ? above : below;
            if (peer == MPI_PROC_NULL) continue;
            long cells = width;
            for (int b = 0; b < 3; b++) {
                send_lo[faces][b] = recv_lo[faces][b] = 0;
                send_hi[faces][b] = recv_hi[faces][b] = n[b];
                if (b != a) cells *= n[b];
            }
            send_lo[faces][a] = upper ? n[a] - width : 0; send_hi[faces][a] = upper ? n[a] : width;
            recv_lo[faces][a] = upper ? n[a] : -width; recv_hi[faces][a] = upper ? n[a] + width : 0;
            neighbour[faces] = peer;
            tag_in[faces] = 2 * a + upper; tag_out[faces] = 2 * a + (upper ? 0 : 1);
            out[faces] = calloc(cells, sizeof(double)); in[faces] = calloc(cells, sizeof(double));
            faces++;
        }
    }
    long offsets[24]; int count = 0;
    for (int a = 0; a < axes; a++) for (int d = 1; d <= width; d++) {
        long stride = a == 0 ? s0 : a == 1 ? s1 : 1;
        offsets[count++] = -d * stride; offsets[count++] = d * stride;
    }
    double weight = 1.0 / count;

    int total = warmup + iterations;
    double *exchange = malloc(total * sizeof(double)), *whole = malloc(total * sizeof(double));
    MPI_Request requests[12];
    MPI_Barrier(grid_comm);
    for (int it = 0; it < total; it++) {
        double start = MPI_Wtime();
        for (int f = 0; f < faces; f++) {
            long cells = 1;
            for (int b = 0; b < 3; b++) cells *= recv_hi[f][b] - recv_lo[f][b];
            MPI_Irecv(in[f], (int)cells, MPI_DOUBLE, neighbour[f], tag_in[f], grid_comm, &requests[f]);
        }
        for (int f = 0; f < faces; f++) {
            long cells = 1;
            for (int b = 0; b < 3; b++) cells *= send_hi[f][b] - send_lo[f][b];
            copy_box(current, out[f], send_lo[f], send_hi[f], 0);
            MPI_Isend(out[f], (int)cells, MPI_DOUBLE, neighbour[f], tag_out[f], grid_comm, &requests[faces + f]);
        }
        MPI_Waitall(2 * faces, requests, MPI_STATUSES_IGNORE);
        for (int f = 0; f < faces; f++) copy_box(current, in[f], recv_lo[f], recv_hi[f], 1);
        double exchanged = MPI_Wtime();
        long run = flat() ? n[1] : n[2];
        for (int i0 = 0; i0 < n[0]; i0++) for (int i1 = 0; i1 < (flat() ? 1 : n[1]); i1++) {
            long first = at(i0, i1, 0);
            const double *p = current + first;
            double *q = next + first;
            /* Radius 1 spelled out in the order podgap adds, so both compilers can vectorize it. */
            if (count == 4) {
                long a = offsets[0], b = offsets[1], c = offsets[2], d = offsets[3];
                for (long i = 0; i < run; i++) q[i] = (((0.0 + p[i + a]) + p[i + b]) + p[i + c] + p[i + d]) * weight;
            } else if (count == 6 && axes == 3) {
                long a = offsets[0], b = offsets[1], c = offsets[2], d = offsets[3], e = offsets[4], f = offsets[5];
                for (long i = 0; i < run; i++)
                    q[i] = (((0.0 + p[i + a]) + p[i + b]) + p[i + c] + p[i + d] + p[i + e] + p[i + f]) * weight;
            } else {
                for (long i = 0; i < run; i++) {
                    double sum = 0;
                    for (int o = 0; o < count; o++) sum += p[i + offsets[o]];
                    q[i] = sum * weight;
                }
            }
        }
        double end = MPI_Wtime();
        double *swap = current; current = next; next = swap;
        exchange[it] = exchanged - start; whole[it] = end - start;
    }
    MPI_Allreduce(MPI_IN_PLACE, exchange, total, MPI_DOUBLE, MPI_MAX, grid_comm);
    MPI_Allreduce(MPI_IN_PLACE, whole, total, MPI_DOUBLE, MPI_MAX, grid_comm);
    if (rank == 0) {
        double best = median(exchange + warmup, iterations);  /* sorts the timed part */
        printf("%.9f %.9f %.9f\n", best, median(whole + warmup, iterations), exchange[warmup]);
    }
    MPI_Finalize();
    return 0;
}
