// Package admin is the admin console: a small browser app at /admin/, served from files
// embedded in the binary (no build step, no CDN). The app calls only the public /api with
// the signed-in user's token, so it can do exactly what that user may do.
//
//	wf := workflow.New(workflow.Config{})
//	app, _ := core.New(cfg, core.WithPlugins(wf, actiontrigger.New(wf), admin.New()))
//	// open http://localhost:8080/admin/
package admin

import (
	"embed"
	"io/fs"
	"path"
	"strings"

	"github.com/actionflow/actionflow/core"
	"github.com/valyala/fasthttp"
)

//go:embed static
var static embed.FS

// Prefix is where the console is served.
const Prefix = "/admin/"

// contentSecurityPolicy lets the page load its own files only: no inline scripts, no
// other origins.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// Plugin serves the console.
type Plugin struct{}

// New makes the console plugin.
func New() *Plugin { return &Plugin{} }

// Name implements core.Plugin.
func (p *Plugin) Name() string { return "admin" }

// Init implements core.Plugin.
func (p *Plugin) Init(h *core.Host) error {
	// "/admin" goes in the any-method tree: beside the catch-all in the GET tree the
	// router would take "/admin/" for "/admin" with a trailing slash and answer 404.
	h.Route("*", "/admin", func(ctx *fasthttp.RequestCtx) { ctx.Redirect(Prefix, fasthttp.StatusMovedPermanently) })
	h.Route(fasthttp.MethodGet, Prefix+"{file:*}", p.serve)
	h.Route(fasthttp.MethodHead, Prefix+"{file:*}", p.serve)
	return nil
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// serve answers one file of the console; the bare prefix is index.html.
func (p *Plugin) serve(ctx *fasthttp.RequestCtx) {
	name := strings.TrimPrefix(string(ctx.Path()), Prefix)
	if name == "" {
		name = "index.html"
	}
	ctype, known := contentTypes[path.Ext(name)]
	var body []byte
	var err error
	if known && fs.ValidPath(name) {
		body, err = fs.ReadFile(static, "static/"+name)
	}
	hdr := &ctx.Response.Header
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if !known || err != nil {
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString("not found\n")
		return
	}
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	hdr.Set("X-Frame-Options", "DENY")
	// The files change with the binary; revalidating keeps an upgraded server's console current.
	hdr.Set("Cache-Control", "no-cache")
	ctx.SetContentType(ctype)
	ctx.SetBody(body)
}
