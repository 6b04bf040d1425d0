// Command hello-plugin is actionflow with one plugin of its own built in: the whole
// actionflow binary (serve, lua, workflows, version, every flag and env variable) with the
// standard plugins and package hello after them.
//
//	go run ./examples/hello-plugin serve --root-password secret
package main

import (
	"github.com/actionflow/actionflow/examples/hello-plugin/hello"
	"github.com/actionflow/actionflow/plugins/standard"
)

func main() { standard.Main(hello.New()) }
