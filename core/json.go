package core

import (
	"encoding/json"

	"github.com/actionflow/actionflow/core/record"
)

// marshalEnvelope is json.Marshal(envelope{...}) of a result: the success body.
func marshalEnvelope(r *Result) ([]byte, error) {
	b := append(make([]byte, 0, 512), `{"data":`...)
	b, ok := record.AppendJSON(b, r.Data, 1)
	if ok && r.Meta != nil {
		b = append(b, `,"meta":`...)
		b, ok = record.AppendJSON(b, r.Meta, 1)
	}
	if ok && len(r.Messages) > 0 {
		b = append(b, `,"messages":[`...)
		for i, m := range r.Messages {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"message":`...)
			b = record.AppendJSONString(b, m.Message)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if !ok {
		return json.Marshal(envelope{Data: r.Data, Meta: r.Meta, Messages: r.Messages})
	}
	return append(b, '}'), nil
}
