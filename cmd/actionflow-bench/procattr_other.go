//go:build !linux

package main

import "os/exec"

// setParentDeathSignal is Linux only; elsewhere the child is stopped by the benchmark.
func setParentDeathSignal(*exec.Cmd) {}
