package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestForms(t *testing.T) {
	var s Set
	s.Put("svc", `pa"ss/w<rd-42`, "Bearer tok-abcdefgh", "Basic "+base64.StdEncoding.EncodeToString([]byte("alice:hunter2-long")), "short")
	for _, tc := range []struct{ name, in, want string }{
		{"ok/raw", `x pa"ss/w<rd-42 y`, "x [redacted] y"},
		{"ok/json-escaped", `{"v":"pa\"ss/w<rd-42"}`, `{"v":"[redacted]"}`},
		{"ok/json-html-escaped", `{"v":"pa\"ss/w\u003crd-42"}`, `{"v":"[redacted]"}`},
		{"ok/json-escaped-slash", `{"v":"pa\"ss\/w<rd-42"}`, `{"v":"[redacted]"}`},
		{"ok/bearer-credential-alone", "token tok-abcdefgh here", "token [redacted] here"},
		{"ok/basic-password-alone", "pw=hunter2-long", "pw=[redacted]"},
		{"ok/basic-pair", "alice:hunter2-long", "[redacted]"},
		{"ok/short-values-are-ignored", "short", "short"},
		{"ok/nothing", "nothing here", "nothing here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.String(tc.in); got != tc.want {
				t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
			}
			got, found := s.Bytes([]byte(tc.in))
			if string(got) != tc.want || found != (tc.in != tc.want) {
				t.Errorf("Bytes(%q) = %q, %v", tc.in, got, found)
			}
		})
	}
}

func TestGroupsAreReplacedAndDropped(t *testing.T) {
	var s Set
	if !s.Empty() {
		t.Fatal("a new set is not empty")
	}
	s.Put("service/a/live", "first-token-1")
	s.Put("service/a/live", "second-token-2") // a refreshed token replaces the old one
	s.Put("service/b/config", "other-secret-3")
	if s.Contains("first-token-1") || !s.Contains("second-token-2") || !s.Contains("other-secret-3") {
		t.Fatal("Put did not replace the group's values")
	}
	s.Drop("service/a/")
	if s.Contains("second-token-2") || !s.Contains("other-secret-3") {
		t.Fatal("Drop removed the wrong groups")
	}
	s.Put("service/b/config")
	if !s.Empty() {
		t.Fatal("an emptied group is still matched")
	}
}

func TestLongerSecretsWinOverTheirParts(t *testing.T) {
	var s Set
	s.Put("a", "abcdefgh", "abcdefgh-and-more")
	if got := s.String("abcdefgh-and-more!"); got != "[redacted]!" {
		t.Fatalf("got %q", got)
	}
}

func TestErrorsKeepWhatTheyWrap(t *testing.T) {
	var s Set
	s.Put("a", "secret-value-9")
	base := errors.New("base")
	err := s.Error(errors.Join(base, errors.New("echo secret-value-9")))
	if strings.Contains(err.Error(), "secret-value-9") || !errors.Is(err, base) {
		t.Fatalf("%v", err)
	}
	if s.Error(nil) != nil {
		t.Fatal("nil became an error")
	}
}

func TestLogHandlerRedacts(t *testing.T) {
	var s Set
	s.Put("a", "log-secret-77")
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewTextHandler(&buf, nil), &s)).With("conn", "x log-secret-77")
	log.Info("saw log-secret-77", "err", errors.New("failed: log-secret-77"), slog.Group("g", "v", "log-secret-77"), "n", 3)
	if out := buf.String(); strings.Contains(out, "log-secret-77") || strings.Count(out, Mask) != 4 || !strings.Contains(out, "n=3") {
		t.Fatalf("log line: %s", out)
	}
}
