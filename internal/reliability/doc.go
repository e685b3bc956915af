// Package reliability holds AgentVault's reliability and security suite:
// tests that attack the real server the way its threat model says an agent,
// a web page or a crash would, and print one line of figures per area.
// `make reliability` runs the short version (what CI runs);
// RELIABILITY=long runs the long one (more crash trials, longer fuzzing).
//
// It runs on Linux (it reads /proc, checks peer credentials and starts
// bubblewrap) and must never run as part of the product.
package reliability
