package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	tools := []string{"fs_read_file", "fs_read_text_file", "fs_write_file", "fs_list_directory", "github_create_issue"}
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"fs_read_flie", []string{"fs_read_file"}},
		{"FS_WRITE_FILE", []string{"fs_write_file"}},
		{"fs_read", []string{"fs_read_file"}},
		{"slack_post", nil},
	} {
		if got := Closest(tc.typed, tools, 1); !slices.Equal(got, tc.want) {
			t.Errorf("Closest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
	if got := Closest("fs_read_txt_file", tools, 3); len(got) < 2 || got[0] != "fs_read_text_file" {
		t.Errorf("the closest comes first: %q", got)
	}
}
