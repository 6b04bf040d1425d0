// Command actionflow is the actionflow server and its tools: the standard plugins and
// nothing else (plugins/standard). A binary with plugins of your own is the same one line
// with them as arguments (examples/hello-plugin).
//
//	actionflow serve [flags]      start the HTTP server
//	actionflow lua run FILE       run a workflow script in the sandbox
//	actionflow lua check FILE     compile a workflow script
//	actionflow workflows apply    create or update workflows kept as files on a server
//	actionflow restore --data DIR FILE   restore a backup (GET /api/app:backup)
//	actionflow version            the build's version
package main

import "github.com/actionflow/actionflow/plugins/standard"

func main() { standard.Main() }
