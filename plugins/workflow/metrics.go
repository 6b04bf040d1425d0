package workflow

import (
	"fmt"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/actionflow/actionflow/core"
)

// engineMetrics are the workflow engine's metrics (API.md §12), in the app's registry.
// Label values are bounded: trigger types are registered ones, statuses a handful.
type engineMetrics struct {
	set        *metrics.Set
	queueDelay *metrics.PrometheusHistogram
}

func newEngineMetrics(h *core.Host, d *dispatcher) *engineMetrics {
	s := h.Metrics()
	s.NewGauge("actionflow_queue_depth", func() float64 { return float64(d.depth()) })
	return &engineMetrics{set: s, queueDelay: s.NewPrometheusHistogram("actionflow_queue_delay_seconds")}
}

// observeRun counts a finished run of wf (its execution's status) and its duration.
func (m *engineMetrics) observeRun(wf *Workflow, exec *Execution, d time.Duration) {
	if m == nil || exec.Status == nil {
		return
	}
	typ := wf.Type
	m.set.GetOrCreateCounter(fmt.Sprintf(`actionflow_workflow_executions_total{type=%q,status="%d"}`, typ, *exec.Status)).Inc()
	m.set.GetOrCreatePrometheusHistogram(fmt.Sprintf(`actionflow_workflow_execution_duration_seconds{type=%q}`, typ)).Update(d.Seconds())
}

// observeDelay records how long a queued execution waited for its worker: from its
// creation to its start.
func (m *engineMetrics) observeDelay(exec *Execution, started time.Time) {
	if m == nil {
		return
	}
	created, err := time.Parse(time.RFC3339Nano, exec.CreatedAt)
	if err != nil {
		return
	}
	m.queueDelay.Update(max(started.Sub(created), 0).Seconds())
}

// logFailed writes the warning line of an async execution that ended failed, errored or
// aborted (-1, -2, -3): otherwise only executions:list would find it.
func (e *Engine) logFailed(wf *Workflow, exec *Execution) {
	if exec.Status == nil {
		return
	}
	switch *exec.Status {
	case StatusFailed, StatusError, StatusAborted:
	default:
		return
	}
	args := []any{"execution", exec.ID, "key", wf.Key, "status", *exec.Status}
	if exec.Error != nil {
		args = append(args, "err", exec.Error.Message)
		if exec.Error.Line > 0 {
			args = append(args, "line", exec.Error.Line)
		}
	}
	e.log.Warn("async execution ended "+statusName(*exec.Status), args...)
}

func statusName(s int) string {
	switch s {
	case StatusFailed:
		return "failed"
	case StatusError:
		return "with an error"
	case StatusAborted:
		return "aborted"
	}
	return strconv.Itoa(s)
}
