package offline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// header is a workflow file's settings: the "--- name: value" lines it starts with, in the
// format of `actionflow workflows apply` files. Offline every setting is optional.
type header struct {
	Key, Title, Type string
	Sync             bool
	Config, Options  map[string]any
}

// defaultType is the type of a script without a header: a custom action without a
// collection, whose ctx.data may be any JSON.
const defaultType = "custom-action"

func parseHeader(src string) (header, error) {
	h := header{Type: defaultType, Config: map[string]any{}, Options: map[string]any{}}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "---" {
			continue
		}
		rest, ok := strings.CutPrefix(line, "--- ")
		if !ok {
			break
		}
		name, value, ok := strings.Cut(rest, ":")
		if !ok {
			return h, fmt.Errorf("line %d: want a header line \"--- name: value\", got %q", i+1, line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		var err error
		switch name {
		case "key":
			h.Key = value
		case "title":
			h.Title = value
		case "type":
			h.Type = value
		case "sync":
			if value != "true" && value != "false" {
				err = fmt.Errorf("want true or false, got %q", value)
			}
			h.Sync = value == "true"
		case "config":
			err = decodeObject(value, &h.Config)
		case "options":
			err = decodeObject(value, &h.Options)
		case "enabled", "description":
		default:
			err = fmt.Errorf("unknown header key (known: key, title, type, sync, enabled, config, options, description)")
		}
		if err != nil {
			return h, fmt.Errorf("line %d: %s: %w", i+1, name, err)
		}
	}
	return h, nil
}

func decodeObject(v string, out *map[string]any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return fmt.Errorf("want a JSON object on one line")
	}
	*out = m
	return nil
}
