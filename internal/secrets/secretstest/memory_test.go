package secretstest

import (
	"errors"
	"testing"

	"github.com/agentvault/agentvault/internal/secrets"
)

func TestMemory(t *testing.T) {
	var s Memory
	if _, err := s.Get("github"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get on an empty store: %v, want ErrNotFound", err)
	}
	if err := s.Delete("github"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if err := s.Set("github", "ghu_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("github", "ghu_2"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get("github"); err != nil || v != "ghu_2" {
		t.Fatalf("Get = %q, %v; want the last value set", v, err)
	}

	locked := errors.New("locked")
	s.FailSets(locked)
	if err := s.Set("github", "ghu_3"); !errors.Is(err, locked) {
		t.Fatalf("Set while failing: %v", err)
	}
	if v, err := s.Get("github"); err != nil || v != "ghu_2" {
		t.Fatalf("a failed Set changed the store: %q, %v", v, err)
	}
	s.FailSets(nil)
	if err := s.Set("github", "ghu_3"); err != nil {
		t.Fatalf("Set after FailSets(nil): %v", err)
	}

	if err := s.Delete("github"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("github"); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}
