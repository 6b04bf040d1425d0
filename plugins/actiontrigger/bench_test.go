package actiontrigger_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/valyala/fasthttp"
)

// benchScript is actionflow-bench's W2/W3 workflow.
const benchScript = `local t = ctx.data.title .. " by " .. (ctx.user.email or "?")
local n = 0
for i = 1, 50 do n = n + i * (ctx.data.views or 1) end
return {title = string.upper(t), score = n, len = #t}
`

// BenchmarkCreate measures posts:create by parallel clients over an in-memory listener:
// without a workflow (the baseline), with one bound sync workflow and with one bound async
// workflow (the request only: the executions run meanwhile and are not waited for).
// Compare the sub-benchmarks' ns/op as ratios, as actionflow-bench does with W1-W3.
func BenchmarkCreate(b *testing.B) {
	for _, mode := range []string{"none", "sync", "async"} {
		b.Run(mode, func(b *testing.B) {
			wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
			s := coretest.New(b, core.Config{}, core.WithPlugins(wf, actiontrigger.New(wf)))
			s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"},{"name":"body","type":"text"},{"name":"views","type":"integer"}]}`)
			member := s.User("member@bench.local", "member")
			uri := "http://actionflow/api/posts:create"
			if mode != "none" {
				w := s.Post("/api/workflows:create", s.Root, map[string]any{
					"title": "bench", "type": actiontrigger.Type, "sync": mode == "sync", "enabled": true,
					"config": map[string]any{"collection": "posts"}, "script": benchScript,
				})
				uri += "?triggerWorkflows=" + w.Must(b, 200).Obj(b)["key"].(string)
			}
			body := []byte(`{"title":"hello bench","body":"a short body of a post","views":3}`)
			var failed atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(res)
				for pb.Next() {
					req.SetRequestURI(uri)
					req.Header.SetMethod("POST")
					req.Header.Set("Authorization", "Bearer "+member)
					req.SetBody(body)
					if err := s.Client.Do(req, res); err != nil || res.StatusCode() != 200 {
						failed.Add(1)
					}
				}
			})
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d requests failed", n)
			}
		})
	}
}
