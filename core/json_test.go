package core

import (
	"encoding/json"
	"math"
	"testing"
)

func TestMarshalEnvelopeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		r    Result
	}{
		{"data only", Result{Data: Record{"id": int64(1), "title": "<b>"}}},
		{"nil data", Result{}},
		{"list with meta", Result{Data: []Record{{"id": int64(1)}, {"id": int64(2)}}, Meta: map[string]any{"count": 2, "page": 1}}},
		{"empty meta map", Result{Data: []any{}, Meta: map[string]any{}}},
		{"messages", Result{Data: true, Messages: []Message{{Message: "a & b"}, {Message: ""}}}},
		{"empty messages", Result{Data: "x", Messages: []Message{}}},
		{"struct data", Result{Data: struct {
			N string `json:"n"`
		}{"v"}}},
		{"unencodable", Result{Data: Record{"f": math.Inf(-1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := json.Marshal(envelope{Data: tt.r.Data, Meta: tt.r.Meta, Messages: tt.r.Messages})
			got, gotErr := marshalEnvelope(&tt.r)
			if (wantErr == nil) != (gotErr == nil) || string(got) != string(want) {
				t.Fatalf("got %s, %v\nwant %s, %v", got, gotErr, want, wantErr)
			}
		})
	}
}
