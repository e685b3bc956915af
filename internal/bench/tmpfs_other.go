//go:build !linux

package bench

// tmpfsDir is a folder in memory; this report looks for one on Linux only.
func tmpfsDir() string { return "" }
