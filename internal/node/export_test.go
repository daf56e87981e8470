package node

// ShutdownNoise exposes shutdownNoise to the external tests.
var ShutdownNoise = shutdownNoise
