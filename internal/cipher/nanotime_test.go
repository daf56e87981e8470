package cipher

import "time"

// nanotime is a monotonic clock for the interleaved benchmark (test code
// only; the package itself reads no clock).
func nanotime() int64 { return int64(time.Since(start)) }

var start = time.Now()
