package standard

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unsetServeEnv unsets (empties) the variables these tests set, for the test.
func unsetServeEnv(t *testing.T) {
	for _, v := range []string{"ACTIONFLOW_DURABLE", "ACTIONFLOW_WORKERS", "ACTIONFLOW_SCRIPT_TIMEOUT",
		"ACTIONFLOW_MAX_CONNS_PER_IP", "ACTIONFLOW_LOG_LEVEL", "ACTIONFLOW_READ_TIMEOUT"} {
		t.Setenv(v, "")
	}
}

// An address no server can listen on: a serve that gets past its checks fails with exit 1
// instead of serving.
const badAddr = "no-such-host.invalid:1"

func TestPositionalArguments(t *testing.T) {
	script := filepath.Join(t.TempDir(), "wf.lua")
	if err := os.WriteFile(script, []byte("return 1"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string // in stderr; exit is always 2
	}{
		{"serve: a value after a boolean flag", []string{"serve", "--addr", badAddr, "--data", dir, "--durable", "true", "--max-body", "1"},
			`actionflow serve: unexpected argument "true" (boolean flags take their value as --durable=true)`},
		{"serve: a stray word", []string{"serve", "--addr", badAddr, "--data", dir, "now"},
			`actionflow serve: unexpected argument "now" (serve takes flags only; see --help)`},
		{"lua check: a second file", []string{"lua", "check", script, "other.lua"},
			`actionflow lua check: unexpected argument "other.lua"`},
		{"lua run: a word after the flags", []string{"lua", "run", script, "--timeout", "1s", "extra"},
			`actionflow lua run: unexpected argument "extra"`},
		{"workflows apply: a value after a boolean flag", []string{"workflows", "apply", "--token", "x", "--dry-run", "true", dir},
			`actionflow workflows apply: unexpected argument "true" (boolean flags take their value as --dry-run=true)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unsetServeEnv(t)
			var out, errb bytes.Buffer
			if code := Run(tc.args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2: %s%s", code, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, errb.String())
			}
		})
	}
}

func TestServeEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string // after serve --data <tmp>
		want string   // in stderr; exit is always 2
		not  string   // not in stderr
	}{
		{"bool env not a boolean", map[string]string{"ACTIONFLOW_DURABLE": "yes"}, nil,
			`ACTIONFLOW_DURABLE: "yes" is not a boolean`, ""},
		{"int env not a number", map[string]string{"ACTIONFLOW_WORKERS": "abc"}, nil,
			`ACTIONFLOW_WORKERS: "abc" is not a whole number`, ""},
		{"duration env without a unit", map[string]string{"ACTIONFLOW_SCRIPT_TIMEOUT": "5"}, nil,
			`ACTIONFLOW_SCRIPT_TIMEOUT: "5" is not a duration: give it a unit, e.g. 5s`, ""},
		{"duration env not a duration", map[string]string{"ACTIONFLOW_READ_TIMEOUT": "soon"}, nil,
			`ACTIONFLOW_READ_TIMEOUT: "soon" is not a duration`, ""},
		{"connection limit env", map[string]string{"ACTIONFLOW_MAX_CONNS_PER_IP": "many"}, nil,
			`ACTIONFLOW_MAX_CONNS_PER_IP: "many" is not a whole number`, ""},
		{"the first bad variable is named", map[string]string{"ACTIONFLOW_DURABLE": "yes", "ACTIONFLOW_WORKERS": "abc"}, nil,
			`ACTIONFLOW_DURABLE`, ""},
		{"log level env", map[string]string{"ACTIONFLOW_LOG_LEVEL": "loud"}, nil,
			`bad ACTIONFLOW_LOG_LEVEL "loud"`, ""},
		{"negative connection limit flag", nil, []string{"--max-conns-per-ip", "-1"},
			`--max-conns-per-ip -1`, ""},
		// A good value passes: the bad log level is what stops the start.
		{"good values accepted", map[string]string{"ACTIONFLOW_DURABLE": "1", "ACTIONFLOW_WORKERS": "3", "ACTIONFLOW_SCRIPT_TIMEOUT": "2s"},
			[]string{"--log-level", "loud"}, `bad --log-level "loud"`, "ACTIONFLOW_"},
		{"the flag wins over a bad variable", map[string]string{"ACTIONFLOW_WORKERS": "abc"},
			[]string{"--workers", "2", "--log-level", "loud"}, `bad --log-level "loud"`, "ACTIONFLOW_WORKERS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unsetServeEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"serve", "--data", t.TempDir(), "--addr", badAddr}, tc.args...)
			var out, errb bytes.Buffer
			if code := Run(args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2: %s%s", code, out.String(), errb.String())
			}
			if !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("stderr lacks %q:\n%s", tc.want, errb.String())
			}
			if tc.not != "" && strings.Contains(errb.String(), tc.not) {
				t.Fatalf("stderr holds %q:\n%s", tc.not, errb.String())
			}
		})
	}
}

// TestEnvEmptyIsUnset: an empty variable gives the default, as README's Configuration says
// (an empty ACTIONFLOW_LOG_LEVEL used to stop serve as a bad log level).
func TestEnvEmptyIsUnset(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"unset", "", "info"},
		{"set", "debug", "debug"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ACTIONFLOW_TEST_ENV", tc.value)
			if got := env("ACTIONFLOW_TEST_ENV", "info"); got != tc.want {
				t.Fatalf("env = %q, want %q", got, tc.want)
			}
		})
	}
}
