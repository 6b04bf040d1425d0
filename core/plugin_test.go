package core_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/actionflow/actionflow/core/coretest"
	"strings"
	"sync"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/store"
	"github.com/valyala/fasthttp"
)

// recorder is a test plugin that records what its hooks see.
type recorder struct {
	name    string
	log     *[]string
	mu      *sync.Mutex
	initErr error
	setup   func(h *core.Host) error
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) add(s string) {
	r.mu.Lock()
	*r.log = append(*r.log, s)
	r.mu.Unlock()
}

func (r *recorder) Init(h *core.Host) error {
	r.add("init " + r.name)
	if r.initErr != nil {
		return r.initErr
	}
	if r.setup != nil {
		return r.setup(h)
	}
	return nil
}

func (r *recorder) Close(context.Context) error {
	r.add("close " + r.name)
	return nil
}

func TestPluginLifecycle(t *testing.T) {
	var log []string
	var mu sync.Mutex
	mk := func(name string, err error) *recorder { return &recorder{name: name, log: &log, mu: &mu, initErr: err} }

	t.Run("init in order, close in reverse", func(t *testing.T) {
		log = nil
		s := coretest.New(t, core.Config{}, core.WithPlugins(mk("a", nil), mk("b", nil)))
		_ = s.App.Close(context.Background())
		if got := strings.Join(log, ","); got != "init a,init b,close b,close a" {
			t.Fatalf("order = %s", got)
		}
	})
	t.Run("a failed init closes those before it", func(t *testing.T) {
		log = nil
		_, err := core.New(core.Config{InMemory: true, BcryptCost: 4}, core.WithPlugins(mk("a", nil), mk("b", errors.New("boom")), mk("c", nil)))
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("err = %v", err)
		}
		if got := strings.Join(log, ","); got != "init a,init b,close a" {
			t.Fatalf("order = %s", got)
		}
	})
	t.Run("duplicate names are an error", func(t *testing.T) {
		_, err := core.New(core.Config{InMemory: true, BcryptCost: 4}, core.WithPlugins(mk("a", nil), mk("a", nil)))
		if err == nil {
			t.Fatal("no error")
		}
	})
}

func TestHooks(t *testing.T) {
	var log []string
	var mu sync.Mutex
	p := &recorder{name: "audit", log: &log, mu: &mu}
	p.setup = func(h *core.Host) error {
		st, prefix := h.Store()
		_ = st
		hooks := []struct {
			phase core.Phase
			hook  core.Hook
		}{
			{core.BeforeAction, core.Hook{ID: "audit.veto", Fn: func(ac *core.ActionContext) error {
				if ac.Collection != nil && ac.Action == "create" && ac.Params.Values["title"] == "forbidden" {
					return core.BadRequest("title", "vetoed by audit")
				}
				return nil
			}}},
			{core.BeforeAction, core.Hook{ID: "audit.skip", Fn: func(ac *core.ActionContext) error {
				if ac.Collection != nil && ac.Action == "create" && ac.Params.Values["title"] == "answered" {
					ac.Result = &core.Result{Messages: []core.Message{{Message: "answered by a hook"}}}
					return core.ErrSkipAction
				}
				return nil
			}}},
			{core.BeforeAction, core.Hook{ID: "audit.first", Priority: -10, Fn: func(ac *core.ActionContext) error {
				p.add("before " + ac.Resource + ":" + ac.Action)
				return nil
			}}},
			{core.InTransaction, core.Hook{ID: "audit.tx", Fn: func(ac *core.ActionContext) error {
				if ac.Collection == nil || ac.Action != "create" {
					return nil
				}
				recs := ac.Records()
				for _, r := range recs {
					if r["title"] == "rollback" {
						return core.BadRequest("title", "rolled back in transaction")
					}
					key := append(append([]byte(nil), prefix...), fmt.Sprint(r["id"])...)
					if err := ac.Tx.Set(key, []byte("seen")); err != nil {
						return err
					}
				}
				ac.Tx.OnCommit(func() { p.add("committed") })
				return nil
			}}},
			{core.AfterAction, core.Hook{ID: "audit.after", Fn: func(ac *core.ActionContext) error {
				if ac.Collection != nil && ac.Action == "create" {
					ac.Result.Messages = append(ac.Result.Messages, core.Message{Message: "audited"})
					if ac.Params.Values["title"] == "fail-after" {
						return core.BadRequest("", "failed after commit")
					}
				}
				return nil
			}}},
		}
		for _, hk := range hooks {
			if err := h.Hook(hk.phase, hk.hook); err != nil {
				return err
			}
		}
		if err := h.Hook(core.AfterAction, core.Hook{ID: "audit.after", Fn: func(*core.ActionContext) error { return nil }}); err == nil {
			return errors.New("duplicate hook id accepted")
		}
		if err := h.CollectionAction("count", core.Action{Tx: core.TxRead, Permission: "list", Handler: func(ac *core.ActionContext) error {
			n, err := ac.Data().Count(ac.Tx, ac.Collection, ac.Params.Filter)
			ac.Result = &core.Result{Data: n}
			return err
		}}); err != nil {
			return err
		}
		h.Route("GET", "/plugin-status", func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBodyString(`{"ok":true}`)
		})
		return h.Resource("audit", map[string]core.Action{
			"seen": {Tx: core.TxRead, Handler: func(ac *core.ActionContext) error {
				_, err := ac.Tx.Get(append(append([]byte(nil), prefix...), ac.Params.FilterByTk...))
				ac.Result = &core.Result{Data: err == nil}
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			}},
		})
	}
	s := coretest.New(t, core.Config{}, core.WithPlugins(p))
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"}]}`)

	t.Run("before hooks run in priority order and see every action", func(t *testing.T) {
		mu.Lock()
		log = nil
		mu.Unlock()
		s.Get("/api/users:list", s.Root).Must(t, 200)
		mu.Lock()
		defer mu.Unlock()
		if len(log) == 0 || log[0] != "before users:list" {
			t.Fatalf("log = %v", log)
		}
	})
	t.Run("veto", func(t *testing.T) {
		r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "forbidden"}).Must(t, 400)
		if !strings.Contains(r.ErrMsg(t), "vetoed") {
			t.Fatal(r.Raw)
		}
		if n := coretest.Num(s.Get("/api/posts:count", s.Root).Must(t, 200).Body["data"]); n != 0 {
			t.Fatalf("vetoed action wrote %d", n)
		}
	})
	t.Run("skip answers without running the action", func(t *testing.T) {
		r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "answered"}).Must(t, 200)
		if r.Body["data"] != nil || fmt.Sprint(r.Body["messages"]) != "[map[message:answered by a hook]]" {
			t.Fatalf("response %s", r.Raw)
		}
		if n := coretest.Num(s.Get("/api/posts:count", s.Root).Must(t, 200).Body["data"]); n != 0 {
			t.Fatalf("skipped action wrote %d", n)
		}
	})
	t.Run("in-transaction write commits with the record", func(t *testing.T) {
		r := s.Post("/api/posts:create", s.Root, map[string]any{"title": "ok"}).Must(t, 200)
		id := coretest.ID(t, r.Obj(t))
		if fmt.Sprint(r.Body["messages"]) != "[map[message:audited]]" {
			t.Fatalf("messages = %v", r.Body["messages"])
		}
		if s.Get(fmt.Sprintf("/api/audit:seen?filterByTk=%d", id), s.Root).Must(t, 200).Body["data"] != true {
			t.Fatal("hook write missing")
		}
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(strings.Join(log, ","), "committed") {
			t.Fatalf("OnCommit did not run: %v", log)
		}
	})
	t.Run("in-transaction error rolls the record back", func(t *testing.T) {
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "rollback"}).Must(t, 400)
		if n := coretest.Num(s.Get("/api/posts:count?filter=%7B%22title%22%3A%22rollback%22%7D", s.Root).Must(t, 200).Body["data"]); n != 0 {
			t.Fatal("rolled back record exists")
		}
	})
	t.Run("after hook error keeps the data", func(t *testing.T) {
		s.Post("/api/posts:create", s.Root, map[string]any{"title": "fail-after"}).Must(t, 400)
		if n := coretest.Num(s.Get("/api/posts:count?filter=%7B%22title%22%3A%22fail-after%22%7D", s.Root).Must(t, 200).Body["data"]); n != 1 {
			t.Fatal("record written before the after hook is gone")
		}
	})
	t.Run("plugin route", func(t *testing.T) {
		r := s.Get("/plugin-status", "").Must(t, 200)
		if r.Body["ok"] != true {
			t.Fatal(r.Raw)
		}
	})
	t.Run("collection action needs its permission", func(t *testing.T) {
		s.Post("/api/roles:create", s.Root, map[string]any{"name": "nobody", "permissions": map[string]any{}}).Must(t, 200)
		tok := s.User("n@x.io", "nobody")
		s.Get("/api/posts:count", tok).Must(t, 403)
	})
	t.Run("plugin resources are root/admin only by default", func(t *testing.T) {
		tok := s.User("m@x.io", "member")
		s.Get("/api/audit:seen?filterByTk=1", tok).Must(t, 403)
	})
}

func TestRecordListenerSeesEveryWrite(t *testing.T) {
	var log []string
	var mu sync.Mutex
	p := &recorder{name: "events", log: &log, mu: &mu}
	p.setup = func(h *core.Host) error {
		h.OnRecord(func(tx *core.Tx, ev *core.RecordEvent) error {
			if ev.Collection.Name == "posts" {
				p.add(fmt.Sprintf("%s %v", ev.Kind, ev.Record["title"]))
			}
			return nil
		})
		return nil
	}
	s := coretest.New(t, core.Config{}, core.WithPlugins(p))
	s.Collection(`{"name":"posts","fields":[{"name":"title","type":"string"}]}`)
	mu.Lock()
	log = nil
	mu.Unlock()
	s.Post("/api/posts:create", s.Root, map[string]any{"title": "a"}).Must(t, 200)
	s.Post("/api/posts:update/1", s.Root, map[string]any{"title": "b"}).Must(t, 200)
	// A plugin write goes through the same layer.
	err := s.App.Update(context.Background(), func(tx *core.Tx) error {
		c, err := s.App.Data().Collection("posts")
		if err != nil {
			return err
		}
		_, err = s.App.Data().Create(tx, c, map[string]any{"title": "c"}, core.WriteOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Post("/api/posts:destroy/1", s.Root, nil).Must(t, 200)
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(log, ","); got != "create a,update b,create c,destroy b" {
		t.Fatalf("events = %s", got)
	}
}
