//go:build !unix

package plugins

import "os/exec"

// isolate does nothing where there are no process groups.
func isolate(*exec.Cmd) {}

// killGroup does nothing where there are no process groups: go-plugin
// kills the plugin's own process.
func killGroup(int) {}
