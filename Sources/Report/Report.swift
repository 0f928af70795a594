// Report: pairing, statistics and renderers (issue 5).
