package offline

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestOrdersExample: the golden tests shipped with examples/orders pass.
func TestOrdersExample(t *testing.T) {
	var out, errb bytes.Buffer
	code := TestCommand([]string{filepath.Join("..", "..", "..", "examples", "orders")}, &out, &errb, stdPlugins)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || !strings.HasSuffix(lines[len(lines)-1], " 0 failed") || strings.HasPrefix(lines[len(lines)-1], "0 passed") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
