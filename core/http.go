package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/core/value"
	"github.com/fasthttp/router"
	"github.com/valyala/fasthttp"
)

// MaxPageSize is the largest pageSize a list accepts.
const MaxPageSize = 1000

// statusClientClosed answers a request whose client has gone (nginx's 499).
const statusClientClosed = 499

func (a *App) newRouter() *router.Router {
	r := router.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleOPTIONS = false
	r.ANY("/api/{path:*}", a.serveAPI)
	r.NotFound = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, NotFound("no route for %s", value.Truncate(string(ctx.Path()), 100)))
	}
	r.MethodNotAllowed = func(ctx *fasthttp.RequestCtx) {
		writeError(ctx, &Error{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED", Message: "method not allowed"})
	}
	r.PanicHandler = func(ctx *fasthttp.RequestCtx, v any) {
		a.log.Error("panic in handler", "panic", fmt.Sprint(v), "path", string(ctx.Path()))
		writeError(ctx, Internal(fmt.Errorf("panic: %v", v)))
	}
	return r
}

func (a *App) newServer() *fasthttp.Server {
	a.httpLog = newHTTPLogger(a.log, time.Now)
	return &fasthttp.Server{
		Handler:               a.handle,
		Name:                  "actionflow",
		NoDefaultServerHeader: true,
		MaxRequestBodySize:    a.cfg.MaxBodyBytes,
		ReadTimeout:           a.cfg.ReadTimeout,
		WriteTimeout:          a.cfg.WriteTimeout,
		IdleTimeout:           a.cfg.IdleTimeout,
		Concurrency:           a.cfg.Concurrency,
		// fasthttp logs the raw bytes of a request it cannot parse; with this it leaves
		// them out of most messages, and httpLogger redacts credentials in the others.
		SecureErrorLogMessage: true,
		Logger:                a.httpLog,
		ErrorHandler: func(ctx *fasthttp.RequestCtx, err error) {
			if errors.Is(err, fasthttp.ErrBodyTooLarge) {
				writeError(ctx, &Error{Status: http.StatusRequestEntityTooLarge, Code: "BODY_TOO_LARGE",
					Message: fmt.Sprintf("request body is larger than %d bytes", a.cfg.MaxBodyBytes)})
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				ctx.SetConnectionClose()
				writeError(ctx, &Error{Status: http.StatusRequestTimeout, Code: "REQUEST_TIMEOUT", Message: "request not received within the read timeout"})
				return
			}
			writeError(ctx, &Error{Status: http.StatusBadRequest, Code: "BAD_REQUEST", Message: "malformed HTTP request"})
		},
	}
}

// Handler is the HTTP handler of the app (for tests and embedding).
func (a *App) Handler() fasthttp.RequestHandler { return a.handle }

// serveAPI serves /api/<resource>:<action>.
func (a *App) serveAPI(ctx *fasthttp.RequestCtx) {
	ri := requestInfoOf(ctx)
	if ri == nil { // served by the router alone (Host.Route handlers' tests)
		ri = &requestInfo{id: a.requestID(ctx)}
		ctx.Response.Header.Set("X-Request-Id", ri.id)
	}
	reqID := ri.id
	ac, err := a.prepare(ctx, reqID)
	if err == nil && clientGone(ctx.Conn()) {
		// The client left while the request waited (for a worker, in the accept queue):
		// do not do its work. The answer is for a half-closed client that still reads.
		ctx.SetConnectionClose()
		err = &Error{Status: statusClientClosed, Code: "CLIENT_CLOSED_REQUEST", Message: "the client closed the connection before its request was served"}
	}
	if err == nil {
		act := ac.action
		err = a.run(&ac.ActionContext, act)
	}
	if err != nil {
		e := asError(err)
		if e.Status >= 500 {
			a.log.Error("action failed", "request", reqID, "path", string(ctx.Path()), "err", err)
		}
		writeError(ctx, e)
		return
	}
	writeResult(ctx, ac.Result)
}

// preparedAction is an ActionContext with the Action it resolved to.
type preparedAction struct {
	ActionContext
	action Action
}

// prepare decodes the request: path, auth, resource, method, permission and parameters.
// Everything it keeps is copied out of ctx.
func (a *App) prepare(ctx *fasthttp.RequestCtx, reqID string) (*preparedAction, error) {
	path := string(ctx.Path())
	rest := strings.TrimPrefix(path, "/api/")
	resPath, actPath, ok := strings.Cut(rest, ":")
	actionName, tk, _ := strings.Cut(actPath, "/")
	pa := &preparedAction{ActionContext: ActionContext{
		ctx: a.ctx, app: a, Method: string(ctx.Method()), RequestID: reqID, Action: actionName,
	}}
	ac := &pa.ActionContext
	segs := strings.Split(resPath, "/")
	// Writes committed on other nodes sharing the store: schema, roles, sign-outs, ...
	if err := a.SyncCaches(); err != nil {
		return nil, err
	}

	public := ok && resPath == "auth" && actionName == "signIn"
	ri := requestInfoOf(ctx)
	if !public {
		if err := a.authenticate(ctx, ac); err != nil {
			return nil, err
		}
		if ri != nil {
			ri.userID = ac.UserID
		}
	}
	if !ok || actionName == "" || resPath == "" {
		return nil, NotFound("no resource at %s; use /api/<resource>:<action>", value.Truncate(path, 100))
	}
	act, err := a.resolve(ac, segs)
	if err != nil {
		return nil, err
	}
	pa.action = act
	if ri != nil {
		ri.action = actionLabel(ac)
	}
	if err := checkMethod(ac, act); err != nil {
		return nil, err
	}
	if !act.Public {
		if err := a.authorize(ac, act); err != nil {
			return nil, err
		}
	}
	if err := a.decodeParams(ctx, ac, tk, act.MultiID); err != nil {
		return nil, err
	}
	if err := a.checkPaths(ac); err != nil {
		return nil, err
	}
	if err := a.checkOwners(ac); err != nil {
		return nil, err
	}
	return pa, nil
}

// resolve finds the action for the resource path segments.
func (a *App) resolve(ac *ActionContext, segs []string) (Action, error) {
	s := a.schema.load()
	switch len(segs) {
	case 1:
		name := segs[0]
		ac.Resource = name
		if c, ok := s.Collection(name); ok {
			ac.Collection = c
		}
		return a.findAction(ac, name)
	case 3:
		ac.Resource = segs[0] + "." + segs[2]
		if _, ok := a.resources[ac.Resource]; ok {
			ac.SourceID = segs[1]
			return a.findAction(ac, ac.Resource)
		}
		src, ok := s.Collection(segs[0])
		if !ok {
			return Action{}, NotFound("resource %q not found", segs[0])
		}
		f, ok := src.Field(segs[2])
		if !ok || !f.IsAssociation() {
			return Action{}, NotFound("%q is not an association of %s", segs[2], src.Name)
		}
		id, ok := value.ParseID(segs[1])
		if !ok {
			return Action{}, BadRequest("path", "%q is not a record id of %s", value.Truncate(segs[1], 40), src.Name)
		}
		target, ok := s.Collection(f.Target)
		if !ok {
			return Action{}, NotFound("target collection %q of %s.%s not found", f.Target, src.Name, f.Name)
		}
		ac.Collection = target
		ac.Association = &AssociationScope{Source: src, SourceID: id, Field: f}
		return a.findAction(ac, target.Name)
	}
	return Action{}, NotFound("resource %q not found", strings.Join(segs, "/"))
}

func (a *App) findAction(ac *ActionContext, name string) (Action, error) {
	if acts, ok := a.resources[name]; ok {
		if act, ok := acts[ac.Action]; ok {
			return act, nil
		}
	}
	if ac.Collection != nil {
		if act, ok := a.collectionActions[ac.Action]; ok {
			return act, nil
		}
	}
	if _, known := a.resources[name]; !known && ac.Collection == nil {
		return Action{}, NotFound("resource %q not found", name)
	}
	return Action{}, NotFound("action %q not found on %s", value.Truncate(ac.Action, 40), name)
}

func checkMethod(ac *ActionContext, act Action) error {
	switch ac.Method {
	case fasthttp.MethodPost:
		return nil
	case fasthttp.MethodGet, fasthttp.MethodHead:
		if act.Tx == TxRead || act.AllowGET {
			return nil
		}
	}
	return MethodNotAllowed(ac.Method, ac.Resource, ac.Action)
}

// decodeParams reads the query string and body into ac.Params; multi lets filterByTk be a
// comma-separated list of ids (Action.MultiID).
func (a *App) decodeParams(ctx *fasthttp.RequestCtx, ac *ActionContext, tk string, multi bool) error {
	p := &ac.Params
	p.RawQuery = string(ctx.URI().QueryString())
	ctx.QueryArgs().VisitAll(func(k, v []byte) {
		p.Query = append(p.Query, [2]string{string(k), string(v)})
	})
	p.FilterByTk = p.Get("filterByTk")
	if tk != "" {
		p.FilterByTk = tk
	}
	if body := ctx.PostBody(); len(bytes.TrimSpace(body)) > 0 {
		p.Body = append([]byte(nil), body...)
		if bytes.TrimSpace(body)[0] == '{' {
			if err := decodeJSON(p.Body, &p.Values); err != nil {
				return BadRequest("body", "invalid JSON: %v", err)
			}
		}
	}
	if ac.Collection == nil {
		return nil
	}
	if p.FilterByTk != "" {
		id, ok := value.ParseID(p.FilterByTk)
		if !ok && !(multi && strings.Contains(p.FilterByTk, ",")) {
			return BadRequest("filterByTk", "%q is not a record id", value.Truncate(p.FilterByTk, 40))
		}
		p.ID = id
	}
	s := a.schema.load()
	qs := s.Query(ac.Collection)
	if raw := p.Get("filter"); raw != "" {
		n, err := query.ParseFilter([]byte(raw), qs)
		if err != nil {
			return queryError(err)
		}
		p.Filter = n
	} else {
		m, err := query.ParseBracket("filter", p.Query)
		if err != nil {
			return queryError(err)
		}
		if m != nil {
			n, err := query.ParseFilterValue(m, qs)
			if err != nil {
				return queryError(err)
			}
			p.Filter = n
		}
	}
	var err error
	if p.Sort, err = query.ParseSort(p.All("sort"), qs); err != nil {
		return queryError(err)
	}
	if p.Page, err = query.ParsePage(p.Get("page"), p.Get("pageSize"), MaxPageSize); err != nil {
		return queryError(err)
	}
	if p.Appends, err = query.ParseList("appends", p.All("appends")); err != nil {
		return queryError(err)
	}
	if p.Fields, err = query.ParseList("fields", p.All("fields")); err != nil {
		return queryError(err)
	}
	return nil
}

// queryError turns a query decoding error into a 400 naming its parameter.
func queryError(err error) error {
	var qe *query.Error
	if errors.As(err, &qe) {
		return &Error{Status: http.StatusBadRequest, Code: "INVALID_INPUT", Message: qe.Error(), Field: qe.Param}
	}
	return BadRequest("query", "%v", err)
}

type envelope struct {
	Data     any       `json:"data"`
	Meta     any       `json:"meta,omitempty"`
	Messages []Message `json:"messages,omitempty"`
}

type errorItem struct {
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
}

// writeResult renders a successful result: the one place success bodies are written.
func writeResult(ctx *fasthttp.RequestCtx, r *Result) {
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	if r.Body != nil {
		for _, h := range r.Header {
			ctx.Response.Header.Set(h[0], h[1])
		}
		ctx.SetStatusCode(status)
		ctx.SetContentType(r.ContentType)
		ctx.SetBodyStream(r.Body, -1)
		return
	}
	b, err := marshalEnvelope(r)
	if err != nil {
		writeError(ctx, Internal(fmt.Errorf("encode response: %w", err)))
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.SetBody(b)
}

// writeError renders an error: the one place error bodies are written.
func writeError(ctx *fasthttp.RequestCtx, e *Error) {
	items := []errorItem{{Message: e.Message, Code: e.Code, Field: e.Field}}
	for _, m := range e.Extra {
		items = append(items, errorItem{Message: m.Message})
	}
	b, _ := json.Marshal(struct {
		Errors []errorItem `json:"errors"`
	}{items})
	if e.RetryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	ctx.SetStatusCode(e.Status)
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.SetBody(b)
}
