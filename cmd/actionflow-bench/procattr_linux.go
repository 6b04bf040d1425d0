package main

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal makes the server child get SIGTERM when the benchmark dies, so an
// interrupted run leaves no server behind.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
