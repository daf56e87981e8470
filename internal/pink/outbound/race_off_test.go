//go:build !race

package outbound

// raceEnabled: see race_on_test.go.
const raceEnabled = false
