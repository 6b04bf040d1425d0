package standard

import (
	"bytes"
	"strings"
	"testing"
)

func TestServeHelpAndBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no command", nil, 2, "Usage"},
		{"help", []string{"help"}, 0, "actionflow serve"},
		{"unknown command", []string{"fly"}, 2, "unknown command"},
		{"serve help", []string{"serve", "--help"}, 0, "-root-password"},
		{"bad flag", []string{"serve", "--nope"}, 2, "nope"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, 2, "log-level"},
		{"value threshold out of range", []string{"serve", "--value-threshold", "300000"}, 1, "value threshold 300000 out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Fatalf("output lacks %q: %s%s", tc.out, out.String(), errb.String())
			}
		})
	}
}
