// Package vaulttoken makes and checks the bearer tokens that open one vault.
//
// A token is 256 random bits, shown to the user once. Only its SHA-256 digest
// is stored; a presented token is hashed and compared in constant time.
//
// It must never keep a token: only its digest is stored.
package vaulttoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// prefix marks AgentVault tokens so secret scanners and people recognise them.
const prefix = "avt_"

// New returns a fresh token and the digest to store for it.
func New() (token string, digest []byte) {
	var b [32]byte
	// crypto/rand.Read never returns an error on supported platforms (Go ≥ 1.24).
	_, _ = rand.Read(b[:])
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, Digest(token)
}

// Digest is the stored form of a token.
func Digest(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Matches reports, in constant time, whether token hashes to digest.
// An empty digest (a revoked vault) matches nothing.
func Matches(token string, digest []byte) bool {
	if len(digest) != sha256.Size {
		return false
	}
	got := Digest(token)
	return subtle.ConstantTimeCompare(got, digest) == 1
}

// FromHeader extracts the token from an Authorization header value. It accepts
// exactly "Bearer <token>" (scheme case-insensitive, as RFC 6750 allows) and
// nothing else: no other scheme, no surrounding or inner whitespace.
func FromHeader(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", false
	}
	return tok, true
}
