package env_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/actionflow/actionflow/runtime"
	"github.com/actionflow/actionflow/runtime/lib/env"
)

func TestGet(t *testing.T) {
	vars := map[string]string{"ACTIONFLOW_ENV_TOKEN": "t0k", "ACTIONFLOW_ENV_EMPTY": "", "HOME": "/root", "ACTIONFLOW_ROOT_PASSWORD": "secret"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	e, err := runtime.New(runtime.Config{Workers: 1}, env.Module(lookup))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cases := []struct {
		name, key string
		want      any
	}{
		{"prefixed", "ACTIONFLOW_ENV_TOKEN", "t0k"},
		{"prefixed empty", "ACTIONFLOW_ENV_EMPTY", ""},
		{"prefixed unset", "ACTIONFLOW_ENV_NOPE", nil},
		{"not prefixed", "HOME", nil},
		{"server secret", "ACTIONFLOW_ROOT_PASSWORD", nil},
		{"prefix only as substring", "X_ACTIONFLOW_ENV_TOKEN", nil},
	}
	s, err := e.Compile("env", `return require("env").get(key)`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Run(context.Background(), runtime.Request{Script: s, Globals: map[string]any{"key": tc.key}})
			if res.Err != nil || !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("got %#v (%v), want %#v", res.Output, res.Err, tc.want)
			}
		})
	}
}
