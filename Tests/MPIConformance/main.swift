// driven by MPITests
