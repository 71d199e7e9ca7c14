//go:build unix && !linux

package plugins

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in a process group of its own, so that stopping
// it stops whatever it started too.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the process group led by pid, if any of it is left.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
