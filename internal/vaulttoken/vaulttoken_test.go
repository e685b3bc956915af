package vaulttoken

import (
	"strings"
	"testing"
)

func TestNewTokensAreDistinctAndMatchOnlyTheirDigest(t *testing.T) {
	a, da := New()
	b, db := New()
	if a == b {
		t.Fatal("two tokens are equal")
	}
	if !strings.HasPrefix(a, "avt_") || len(a) != 4+43 {
		t.Fatalf("token %q: want avt_ + 43 base64url characters (256 bits)", a)
	}
	if !Matches(a, da) || !Matches(b, db) {
		t.Fatal("a token does not match its own digest")
	}
	if Matches(a, db) || Matches(b, da) {
		t.Fatal("a token matches another token's digest")
	}
	if Matches(a, nil) || Matches("", nil) || Matches(a, da[:16]) {
		t.Fatal("an empty or short digest matched")
	}
	if strings.Contains(string(da), a) {
		t.Fatal("digest contains the token")
	}
}

func TestFromHeader(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"Bearer  abc", "", false},
		{"Bearer abc ", "", false},
		{"Bearer a b", "", false},
		{" Bearer abc", "", false},
		{"Token abc", "", false},
	}
	for _, tt := range tests {
		got, ok := FromHeader(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("FromHeader(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
