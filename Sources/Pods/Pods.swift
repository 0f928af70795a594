// Pods: OCI image, runc containers, pod networks, MPI Operator-style launch (issue 4).
