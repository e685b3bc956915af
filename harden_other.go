//go:build !linux

package main

// harden has nothing to do where other processes of the user cannot read a
// process's environment through /proc.
func harden() error { return nil }
